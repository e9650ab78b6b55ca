# SPDX-License-Identifier: Apache-2.0
"""The Store: one SQLite file, a connection per thread, and explicit transactions."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import migrate as migrations
from .connection import capabilities, connect
from .vector_index import ensure_vector_table


class Store:
    """Owns the database path and hands each thread its own connection.

    `write()` is a `BEGIN IMMEDIATE` transaction (nested calls join the outer one); `read()`
    gives a consistent snapshot for multi-query reads.
    """

    def __init__(self, path: str | Path, *, migrate: bool = True):
        self.path = Path(path)
        # Memories are private: the data dir and the database are the owner's alone.
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not self.path.exists():
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        self._local = threading.local()
        self._conns: list[Any] = []
        self._conns_lock = threading.Lock()
        self.caps = capabilities()
        if migrate:
            self.migrate()

    def migrate(self, target: int | None = None) -> list[int]:
        conn = self.conn()
        applied = migrations.migrate(conn, target)
        if self.caps.vec:
            ensure_vector_table(conn)
        return applied

    def schema_version(self) -> int:
        return migrations.current_version(self.conn())

    def conn(self) -> Any:
        c = getattr(self._local, "conn", None)
        if c is None:
            c = connect(self.path)
            self._local.conn = c
            self._local.depth = 0
            with self._conns_lock:
                self._conns.append(c)
        return c

    @contextmanager
    def write(self) -> Iterator[Any]:
        c = self.conn()
        if self._local.depth:
            self._local.depth += 1
            try:
                yield c
            finally:
                self._local.depth -= 1
            return
        c.execute("begin immediate")
        self._local.depth = 1
        try:
            yield c
        except BaseException:
            self._local.depth = 0
            c.execute("rollback")
            raise
        self._local.depth = 0
        c.execute("commit")

    @contextmanager
    def read(self) -> Iterator[Any]:
        c = self.conn()
        if self._local.depth:
            yield c
            return
        c.execute("begin")
        self._local.depth = 1
        try:
            yield c
        finally:
            self._local.depth = 0
            c.execute("commit")

    def release_thread_conn(self) -> None:
        """Close the calling thread's connection (for short-lived threads, so none linger)."""
        c = getattr(self._local, "conn", None)
        if c is None:
            return
        self._local.conn = None
        with self._conns_lock:
            if c in self._conns:
                self._conns.remove(c)
        c.close()

    def close(self) -> None:
        with self._conns_lock:
            for c in self._conns:
                try:
                    c.close()
                except Exception:
                    pass
            self._conns.clear()
        self._local = threading.local()
