# SPDX-License-Identifier: Apache-2.0
"""`claude-mem server worker start`: Dramatiq worker processes that never open an HTTP port.

SIGTERM (or SIGINT) finishes the event under way and exits. With `--processes N` this process
supervises N worker processes and restarts one that dies.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time

from .process import setup_logging
from .settings import Settings, SettingsError, env_name

log = logging.getLogger("claude_mem.worker")


def _wait_for_signal() -> threading.Event:
    stop = threading.Event()

    def handle(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    return stop


def run_worker(settings: Settings, threads: int) -> None:
    from .services import Services
    if settings.queue_engine != "dramatiq":
        raise SettingsError(f"worker processes need {env_name('queue_engine')}=dramatiq "
                            "(the sqlite engine drains inside the server)")
    setup_logging(settings, to_stderr=True)
    stop = _wait_for_signal()
    services = Services(settings)
    services.start(consume=True, threads=threads)
    log.info("claude-mem worker %s started (%d threads, valkey %s)", os.getpid(), threads, settings.valkey_url)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        log.info("claude-mem worker %s stopping", os.getpid())
        services.close()
        log.info("claude-mem worker %s stopped", os.getpid())


def run_workers(settings: Settings, processes: int, threads: int) -> None:
    if processes <= 1:
        run_worker(settings, threads)
        return
    if settings.queue_engine != "dramatiq":
        raise SettingsError(f"worker processes need {env_name('queue_engine')}=dramatiq")
    stop = _wait_for_signal()
    cmd = [sys.executable, "-m", "claude_mem.cli", "server", "worker", "start", "--processes", "1",
           "--threads", str(threads)]
    env = dict(os.environ) | {env_name("data_dir"): str(settings.data_path)}
    children = [subprocess.Popen(cmd, env=env) for _ in range(processes)]
    try:
        while not stop.wait(0.5):
            for i, child in enumerate(children):
                if child.poll() is not None:
                    log.warning("worker %s exited with %s; starting another", child.pid, child.returncode)
                    time.sleep(1)
                    children[i] = subprocess.Popen(cmd, env=env)
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
