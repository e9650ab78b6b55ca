# SPDX-License-Identifier: Apache-2.0
"""The long-lived parts of one server process: the store, the queue engine, and how a handler
Context is made. The HTTP app, the CLI's in-process mode and the tests all use this."""

from __future__ import annotations

import logging
from functools import cached_property
from typing import Any

from claude_mem.handlers.context import Context, NullQueue, Principal, QueueHandle
from claude_mem.handlers.distiller import distil
from claude_mem.handlers.drain import DrainIn, DrainOut, drain
from claude_mem.storage.store import Store

from .keyring import Keyring
from .settings import Settings

log = logging.getLogger("claude_mem.runtime")


class Services:
    def __init__(self, settings: Settings, *, queue: str | None = "auto"):
        """`queue="auto"` builds the configured engine; None gives a queue that runs nothing
        (in-process CLI reads), leaving pending work to the server; "inline" drains when the
        caller says (one-shot commands such as imports)."""
        self.settings = settings
        self.store = Store(settings.db_path)
        if queue == "inline":
            from claude_mem.queue.inline_engine import InlineEngine
            self.queue: Any = InlineEngine(self.drain_session)
        else:
            self.queue = NullQueue() if queue is None else self._make_queue()
        self._started = False

    def _make_queue(self) -> QueueHandle:
        s = self.settings
        if s.queue_engine == "sqlite":
            from claude_mem.queue.sqlite_engine import SqliteEngine
            return SqliteEngine(self.store, self.drain_session, workers=s.queue_workers)
        from claude_mem.queue.dramatiq_engine import DramatiqEngine
        from claude_mem.queue.valkey import reachable
        url = s.valkey_url
        if not url:
            raise RuntimeError("CLAUDE_MEM_REDIS_MODE=managed, but no managed Valkey runs for "
                               f"{s.data_path} (start the server first)")
        why = reachable(url)
        if why is not None:
            # An explicitly configured engine is never silently replaced by another.
            raise RuntimeError(f"CLAUDE_MEM_QUEUE_ENGINE=dramatiq needs Valkey at {url}: {why}")
        return DramatiqEngine(self.store, self.drain_session, url=url, prefix=s.queue_redis_prefix,
                              lock_ttl_ms=s.queue_lock_ttl_ms)

    @cached_property
    def keyring(self) -> Keyring:
        """The signing key (created in the data dir on first use) and key verification."""
        return Keyring(self.store, self.settings.data_path, self.settings.signing_key)

    @cached_property
    def embedder(self) -> Any:
        """The configured embedder, or None: CLAUDE_MEM_EMBEDDER=none, or sqlite-vec cannot load
        (search is then full-text only, and says so)."""
        if self.settings.embedder == "none" or not self.store.caps.vec:
            return None
        from claude_mem.storage.embedder import default_embedder
        return default_embedder()

    @cached_property
    def vectors(self) -> Any:
        """Vectors searched in memory (CLAUDE_MEM_VECTOR_CACHE_MB per team; 0: sqlite-vec only)."""
        if self.embedder is None or self.settings.vector_cache_mb == 0:
            return None
        from claude_mem.storage.vector_cache import VectorCache
        return VectorCache(self.store, self.settings.vector_cache_mb * 1024 * 1024)

    def context(self, principal: Principal, request_id: str | None = None) -> Context:
        return Context(principal=principal, store=self.store, queue=self.queue,
                       settings=self.settings, request_id=request_id, issuer=self.keyring,
                       embedder=self.embedder, vectors=self.vectors)

    @cached_property
    def distiller(self) -> Any:
        """The rules, or the LLM distiller (with the rules as its fallback) when configured."""
        if self.settings.distiller == "llm":
            from claude_mem.handlers.llm_distiller import from_settings
            return from_settings(self.settings)
        return distil

    def drain_session(self, session_id: str) -> DrainOut:
        """What the queue engine is handed: the drain handler under a system principal."""
        stopping = getattr(self.queue, "stopping", None)
        return drain(DrainIn(session_id=session_id), self.context(Principal.system("")), distiller=self.distiller,
                     stop=stopping.is_set if stopping is not None else (lambda: False))

    def start(self, *, consume: bool | None = None, threads: int = 4) -> None:
        """Start the queue: the sqlite engine's threads, or the dramatiq engine's sweeper (and a
        worker in this process when `consume`, default CLAUDE_MEM_EMBEDDED_WORKER)."""
        if self._started or not hasattr(self.queue, "start"):
            return
        if self.queue.name == "dramatiq":
            self.queue.start(consume=self.settings.embedded_worker if consume is None else consume,
                             threads=threads)
        else:
            self.queue.start()
        self._started = True
        if self.vectors is not None:  # load each team's vectors now, so first searches are fast
            with self.store.read() as db:
                teams = [r[0] for r in db.execute("select team_id from vector_state")]
            for team_id in teams:
                self.vectors.warm(team_id)

    def close(self) -> None:
        if "vectors" in self.__dict__ and self.vectors is not None:
            self.vectors.close()
        if self._started:
            self.queue.stop()
            self._started = False
        self.store.close()
