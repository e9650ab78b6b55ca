# SPDX-License-Identifier: Apache-2.0
"""Server process lifecycle: foreground serving, the daemon, the pid file and the log file."""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .settings import Settings, SettingsError, env_name, in_container


@dataclass
class PidInfo:
    pid: int
    host: str
    port: int
    started_at: int


def read_pid(settings: Settings) -> PidInfo | None:
    try:
        raw = json.loads(settings.pid_path.read_text("utf-8"))
        return PidInfo(int(raw["pid"]), str(raw["host"]), int(raw["port"]), int(raw["startedAtEpoch"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child (not yet reaped) is not a running server.
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().split(b") ")[-1][:1] != b"Z"
    except OSError:
        return True


def started_ms(pid: int) -> int | None:
    """When a process started (epoch ms), from /proc; None where that cannot be known."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            ticks = int(f.read().rsplit(b") ", 1)[1].split()[19])
        with open("/proc/stat", "rb") as f:
            boot = next(int(line.split()[1]) for line in f if line.startswith(b"btime "))
        return int((boot + ticks / os.sysconf("SC_CLK_TCK")) * 1000)
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def running(settings: Settings) -> PidInfo | None:
    """The running server of this data dir, or None (a stale pid file is removed).

    A pid file is stale when its process is gone, and also when its pid now names another
    process: ourselves (a restarted container is pid 1 again) or one that started after the
    file was written (the pid was reused)."""
    info = read_pid(settings)
    if info is None:
        return None
    began = started_ms(info.pid)
    reused = info.pid == os.getpid() or (began is not None and began > info.started_at + 2_000)
    if alive(info.pid) and not reused:
        return info
    try:
        settings.pid_path.unlink()
    except OSError:
        pass
    return None


def port_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def setup_logging(settings: Settings, *, to_stderr: bool) -> None:
    settings.log_path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    root.setLevel(settings.log_level)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    file_handler = logging.handlers.RotatingFileHandler(settings.log_path, maxBytes=10 * 1024 * 1024,
                                                        backupCount=3, encoding="utf-8")
    file_handler.setFormatter(fmt)
    root.addHandler(file_handler)
    if to_stderr:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(fmt)
        root.addHandler(stream)


def preflight(settings: Settings) -> None:
    """Refuse to start where the server would be unsafe or could not bind."""
    if in_container() and settings.auth_mode != "api-key":
        raise SettingsError(f"in a container the server needs {env_name('auth_mode')}=api-key")
    other = running(settings)
    if other is not None:
        raise SettingsError(f"a server for {settings.data_path} is already running (pid {other.pid}, "
                            f"port {other.port})")
    if settings.port and not port_free(settings.host, settings.port):
        raise SettingsError(f"port {settings.port} on {settings.host} is in use "
                            f"(set {env_name('port')} or --port)")


def serve(settings: Settings) -> None:
    """Run the server in this process until SIGINT or SIGTERM."""
    import uvicorn

    from .app import create_app

    preflight(settings)
    settings.data_path.mkdir(parents=True, exist_ok=True)
    setup_logging(settings, to_stderr=sys.stderr.isatty() or not os.environ.get("CLAUDE_MEM_DAEMON"))
    log = logging.getLogger("claude_mem.server")
    managed = None
    if settings.queue_engine == "dramatiq" and settings.redis_mode == "managed":
        from claude_mem.queue.valkey import ManagedValkey
        managed = ManagedValkey(settings.data_path)
        log.info("managed valkey at %s", managed.start())
    try:
        app = create_app(settings)
    except BaseException:
        if managed is not None:
            managed.stop()
        raise
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_config=None,
                            access_log=False, lifespan="on", timeout_graceful_shutdown=10)

    class _Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: object) -> None:
            super().handle_exit(sig, frame)  # type: ignore[arg-type]
            # SIGTERM/SIGINT ask for a graceful stop: exit 0 after it instead of re-raising.
            self._captured_signals.clear()

    server = _Server(config)
    pid_written = False

    async def started_hook() -> None:
        nonlocal pid_written
        port = settings.port
        for srv in server.servers:
            for sock in srv.sockets:
                port = sock.getsockname()[1]
        tmp = settings.pid_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"pid": os.getpid(), "host": settings.host, "port": port,
                                   "startedAtEpoch": int(time.time() * 1000)}), "utf-8")
        tmp.replace(settings.pid_path)
        pid_written = True
        log.info("claude-mem server listening on %s:%s (auth %s, queue %s, data %s)", settings.host, port,
                 settings.auth_mode, settings.queue_engine, settings.data_path)

    import asyncio

    async def main() -> None:
        task = asyncio.create_task(server.serve())
        while not server.started and not task.done():
            await asyncio.sleep(0.05)
        if server.started:
            await started_hook()
        await task

    try:
        asyncio.run(main())
    finally:
        if managed is not None:
            managed.stop()
        if pid_written:
            info = read_pid(settings)
            if info is not None and info.pid == os.getpid():
                settings.pid_path.unlink(missing_ok=True)
        log.info("claude-mem server stopped")


def healthy(base_url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(base_url + "/healthz", timeout=timeout) as r:
            return r.status == 200
    except (OSError, urllib.error.URLError):
        return False


def start_daemon(settings: Settings, environ: dict[str, str], wait: float = 30.0) -> PidInfo:
    """Start `claude-mem server start` detached, logging to the data dir; wait until it answers."""
    preflight(settings)
    settings.log_path.parent.mkdir(parents=True, exist_ok=True)
    env = dict(environ)
    for name in ("data_dir", "host", "port"):
        env[env_name(name)] = str(getattr(settings, name))
    env["CLAUDE_MEM_DAEMON"] = "1"
    with open(settings.log_path, "ab") as log_file:
        proc = subprocess.Popen([sys.executable, "-m", "claude_mem.cli", "server", "start"],
                                stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file,
                                env=env, start_new_session=True, close_fds=True)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with code {proc.returncode}; see {settings.log_path}:\n"
                               + tail(settings.log_path, 15))
        info = read_pid(settings)
        if info is not None and info.pid == proc.pid and healthy(f"http://{_connect_host(info.host)}:{info.port}"):
            return info
        time.sleep(0.1)
    raise RuntimeError(f"the server did not answer within {wait:.0f} s; see {settings.log_path}")


def _connect_host(host: str) -> str:
    if host in ("0.0.0.0", "", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def stop(settings: Settings, timeout: float = 20.0) -> PidInfo | None:
    """SIGTERM the running server and wait for it to exit (SIGKILL after `timeout`)."""
    info = running(settings)
    if info is None:
        return None
    os.kill(info.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(info.pid):
            break
        time.sleep(0.1)
    else:
        os.kill(info.pid, signal.SIGKILL)
    settings.pid_path.unlink(missing_ok=True)
    return info


def tail(path: Path, lines: int) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024 * max(1, lines // 200 + 1)))
            data = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])


def server_url(info: PidInfo) -> str:
    return f"http://{_connect_host(info.host)}:{info.port}"
