# SPDX-License-Identifier: Apache-2.0
"""The deployable `dramatiq` engine: Dramatiq on Valkey, any number of worker processes.

A wake-up is a message `drain_session(session_id)`. The actor takes the session's Valkey lock
(non-blocking: a busy session is being drained already), drains, releases, then re-checks SQLite
and re-sends if events arrived meanwhile. Dramatiq alone keeps neither per-session order (retries
go to the tail) nor quick recovery of a killed worker's message; order comes from `seq` in
SQLite, and a sweeper re-sends drains for sessions whose pending events have waited a few
seconds, which also covers a lost message, a killed worker (its lock expires) and Valkey
having been away.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from claude_mem.storage import events as events_repo
from claude_mem.storage.store import Store

from .engine import DrainFn
from .valkey import SessionLock, client

log = logging.getLogger("claude_mem.queue")

QUEUE_NAME = "drain"


def _now() -> int:
    return int(time.time() * 1000)


class DramatiqEngine:
    name = "dramatiq"

    def __init__(self, store: Store, drain: DrainFn, *, url: str, prefix: str = "claude-mem",
                 lock_ttl_ms: int = 10_000, sweep_interval: float = 2.0, sweep_age_ms: int = 3_000,
                 heartbeat_timeout_ms: int = 5_000):
        import dramatiq
        from dramatiq.brokers.redis import RedisBroker

        self.store, self.drain, self.url, self.prefix = store, drain, url, prefix
        self.lock_ttl_ms, self.sweep_interval, self.sweep_age_ms = lock_ttl_ms, sweep_interval, sweep_age_ms
        self.redis = client(url, timeout=1.0)
        # A killed worker's unacked messages come back after heartbeat_timeout, checked on every
        # broker call instead of one in a thousand (the default recovers in minutes).
        self.broker = RedisBroker(client=client(url, timeout=5.0), namespace=f"{prefix}:dramatiq",
                                  heartbeat_timeout=heartbeat_timeout_ms, maintenance_chance=1_000_000)
        self.actor = dramatiq.actor(self._drain_message, actor_name="drain_session", queue_name=QUEUE_NAME,
                                    broker=self.broker, max_retries=0, time_limit=24 * 3600 * 1000)
        self._worker: Any = None
        self._stop = threading.Event()
        self._sweeper: threading.Thread | None = None
        self.sends_failed = 0
        self.drains = 0
        self.stopping = threading.Event()

    # -- keys --------------------------------------------------------------------------------

    def _lock_key(self, sid: str) -> str:
        return f"{self.prefix}:lock:{sid}"

    def _queued_key(self, sid: str) -> str:
        return f"{self.prefix}:queued:{sid}"

    # -- contract ----------------------------------------------------------------------------

    def notify(self, session_id: str) -> bool:
        """Send a drain unless one is already waiting; False when Valkey cannot be reached."""
        try:
            if self.redis.set(self._queued_key(session_id), "1", nx=True, px=max(self.lock_ttl_ms, 5_000)):
                self.actor.send(session_id)
            return True
        except Exception as exc:
            self.sends_failed += 1
            log.warning("could not queue a drain of %s: %s", session_id, exc)
            return False

    def start(self, *, consume: bool = False, threads: int = 4, sweep: bool = True) -> None:
        """Start the sweeper, and with `consume` a Dramatiq worker in this process."""
        self._stop.clear()
        if consume:
            import dramatiq
            self.broker.emit_after("process_boot")
            self._worker = dramatiq.Worker(self.broker, queues={QUEUE_NAME}, worker_threads=threads,
                                           worker_timeout=200)
            self._worker.start()
        if sweep:
            self._sweeper = threading.Thread(target=self._sweep_loop, name="claude-mem-sweep", daemon=True)
            self._sweeper.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self.stopping.set()
        if self._worker is not None:
            self._worker.stop(timeout=int(timeout * 1000))
            self._worker = None
        if self._sweeper is not None:
            self._sweeper.join(timeout)
            self._sweeper = None
        try:
            self.broker.close()
        except Exception:
            pass

    def status(self) -> dict[str, Any]:
        try:
            self.redis.ping()
            waiting = self.redis.llen(f"{self.prefix}:dramatiq:{QUEUE_NAME}")
            workers = self.redis.zcount(f"{self.prefix}:dramatiq:__heartbeats__", (_now() - 10_000), "+inf")
            return {"healthy": True, "detail": f"valkey answers; {workers} worker process(es) seen",
                    "waiting_messages": waiting, "workerProcesses": workers, "sendsFailed": self.sends_failed}
        except Exception as exc:
            return {"healthy": False, "detail": f"valkey unreachable: {exc}", "sendsFailed": self.sends_failed}

    # -- the actor ---------------------------------------------------------------------------

    def _drain_message(self, session_id: str) -> None:
        try:
            self.redis.delete(self._queued_key(session_id))
        except Exception:
            pass
        lock = SessionLock(self.redis, self._lock_key(session_id), self.lock_ttl_ms)
        if not lock.acquire():
            return  # being drained; the holder re-checks after releasing
        result = None
        try:
            result = self.drain(session_id)
            self.drains += 1
        finally:
            lock.release()
        if result is not None and result.more and result.processed == 0:
            return  # backing off after a failure: the sweeper comes back for it
        with self.store.read() as db:
            again = events_repo.has_pending(db, session_id)
        if again:
            self.notify(session_id)

    # -- the sweeper -------------------------------------------------------------------------

    def sweep(self) -> int:
        """Re-send drains for sessions whose pending events have waited `sweep_age_ms`."""
        now = _now()
        with self.store.read() as db:
            sids = events_repo.sessions_with_pending(db, now, now - self.sweep_age_ms)
        sent = 0
        for sid in sids:
            try:
                if self.redis.exists(self._lock_key(sid)):
                    continue
                self.redis.delete(self._queued_key(sid))
            except Exception:
                return sent  # Valkey away: try again next round
            if self.notify(sid):
                sent += 1
        return sent

    def _sweep_loop(self) -> None:
        while not self._stop.wait(self.sweep_interval):
            try:
                self.sweep()
            except Exception as exc:
                log.warning("queue sweep failed: %s", exc)
