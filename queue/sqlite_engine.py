# SPDX-License-Identifier: Apache-2.0
"""The embedded `sqlite` engine: worker threads inside the server process.

Exclusion is a lease on the session row (so a second process on the same file cannot drain the
same session either); wake-ups are an in-process signal; a periodic sweep re-sends wake-ups for
sessions with pending events, which also recovers work after a crash or restart. After a drain
the lease is released and then pending work is re-checked, so no wake-up is lost in between.
"""

from __future__ import annotations

import logging
import os
import queue as stdlib_queue
import socket
import threading
import time
import uuid
from typing import Any

from claude_mem.storage import events as events_repo
from claude_mem.storage import sessions as sessions_repo
from claude_mem.storage.store import Store

from .engine import DrainFn

log = logging.getLogger("claude_mem.queue")


def _now() -> int:
    return int(time.time() * 1000)


class SqliteEngine:
    name = "sqlite"

    def __init__(self, store: Store, drain: DrainFn, *, workers: int = 2, lease_ttl_ms: int = 30_000,
                 sweep_interval: float = 1.0):
        self.store = store
        self.drain = drain
        self.workers = workers
        self.lease_ttl_ms = lease_ttl_ms
        self.sweep_interval = sweep_interval
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._ready: stdlib_queue.Queue[str] = stdlib_queue.Queue()
        self._queued: set[str] = set()
        self._held: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.drains = 0
        self.errors = 0

    # -- contract ----------------------------------------------------------------------------

    def start(self) -> None:
        self._stop.clear()
        for i in range(self.workers):
            self._spawn(self._work, f"claude-mem-drain-{i}")
        self._spawn(self._sweep_loop, "claude-mem-sweep")
        self._spawn(self._keep_leases, "claude-mem-lease")

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        for _ in range(self.workers):
            self._ready.put("")
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        self._threads.clear()

    def notify(self, session_id: str) -> bool:
        with self._lock:
            if session_id in self._queued:
                return True
            self._queued.add(session_id)
        self._ready.put(session_id)
        return True

    def status(self) -> dict[str, Any]:
        alive = sum(1 for t in self._threads if t.is_alive())
        expected = self.workers + 2
        healthy = alive == expected and not self._stop.is_set()
        return {"healthy": healthy,
                "detail": f"{alive}/{expected} threads alive" if self._threads else "not started",
                "workers": self.workers, "waiting_wakeups": self._ready.qsize(),
                "draining": len(self._held), "drains": self.drains, "drainErrors": self.errors}

    # -- internals ---------------------------------------------------------------------------

    def _spawn(self, target: Any, name: str) -> None:
        t = threading.Thread(target=target, name=name, daemon=True)
        t.start()
        self._threads.append(t)

    def _work(self) -> None:
        while not self._stop.is_set():
            sid = self._ready.get()
            if not sid:
                continue
            with self._lock:
                self._queued.discard(sid)
            try:
                self._drain_once(sid)
            except Exception:
                self.errors += 1
                log.exception("drain of session %s failed", sid)

    def _drain_once(self, sid: str) -> None:
        # Two exclusions: `_held` between this engine's threads (the lease is per engine), the
        # lease between processes. A drain that finds either taken just returns: the holder
        # re-checks pending work after it lets go.
        with self._lock:
            if sid in self._held:
                return
            self._held.add(sid)
        try:
            with self.store.write() as db:
                leased = sessions_repo.try_lease(db, sid, self.owner, _now(), self.lease_ttl_ms)
        except BaseException:
            with self._lock:
                self._held.discard(sid)
            raise
        if not leased:
            with self._lock:
                self._held.discard(sid)
            return
        result = None
        try:
            result = self.drain(sid)
            self.drains += 1
        finally:
            # The lease goes first: were `_held` cleared first, a sibling thread could re-enter
            # under our still-valid lease and then lose it to this release.
            try:
                with self.store.write() as db:
                    sessions_repo.release_lease(db, sid, self.owner)
            finally:
                with self._lock:
                    self._held.discard(sid)
        # Released first, then re-checked: an event that arrived meanwhile is never stranded.
        if result is not None and result.more and result.processed == 0:
            return  # backing off after a failure; the sweep comes back for it
        with self.store.read() as db:
            again = events_repo.has_pending(db, sid)
        if again:
            self.notify(sid)

    def _sweep_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.sweep()
            except Exception:
                log.exception("queue sweep failed")
            self._stop.wait(self.sweep_interval)

    def sweep(self, min_age_ms: int = 0) -> int:
        """Wake every session that has pending events and no live lease."""
        now = _now()
        with self.store.read() as db:
            sids = events_repo.sessions_with_pending(db, now, now - min_age_ms)
        for sid in sids:
            self.notify(sid)
        return len(sids)

    def _keep_leases(self) -> None:
        interval = self.lease_ttl_ms / 3000
        while not self._stop.wait(interval):
            with self._lock:
                held = list(self._held)
            for sid in held:
                try:
                    with self.store.write() as db:
                        sessions_repo.try_lease(db, sid, self.owner, _now(), self.lease_ttl_ms)
                except Exception:
                    log.exception("lease renewal of %s failed", sid)
