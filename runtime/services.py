# SPDX-License-Identifier: Apache-2.0
"""The long-lived parts of one server process: the store, the queue engine, and how a handler
Context is made. The HTTP app, the CLI's in-process mode and the tests all use this."""

from __future__ import annotations

import logging
from functools import cached_property
from typing import Any

from claude_mem.handlers.context import Context, NullQueue, Principal, QueueHandle
from claude_mem.handlers.drain import DrainIn, DrainOut, drain
from claude_mem.storage.store import Store

from .keyring import Keyring
from .settings import Settings

log = logging.getLogger("claude_mem.runtime")


class Services:
    def __init__(self, settings: Settings, *, queue: str | None = "auto"):
        """`queue="auto"` builds the configured engine; None gives a queue that runs nothing
        (in-process CLI reads), leaving pending work to the server."""
        self.settings = settings
        self.store = Store(settings.db_path)
        self.queue: Any = NullQueue() if queue is None else self._make_queue()
        self._started = False

    def _make_queue(self) -> QueueHandle:
        engine = self.settings.queue_engine
        if engine == "sqlite":
            from claude_mem.queue.sqlite_engine import SqliteEngine
            return SqliteEngine(self.store, self.drain_session, workers=self.settings.queue_workers)
        raise RuntimeError(f"CLAUDE_MEM_QUEUE_ENGINE={engine} is not available in this build")

    @cached_property
    def keyring(self) -> Keyring:
        """The signing key (created in the data dir on first use) and key verification."""
        return Keyring(self.store, self.settings.data_path, self.settings.signing_key)

    def context(self, principal: Principal, request_id: str | None = None) -> Context:
        return Context(principal=principal, store=self.store, queue=self.queue,
                       settings=self.settings, request_id=request_id, issuer=self.keyring)

    def drain_session(self, session_id: str) -> DrainOut:
        """What the queue engine is handed: the drain handler under a system principal."""
        return drain(DrainIn(session_id=session_id), self.context(Principal.system("")))

    def start(self) -> None:
        if not self._started and hasattr(self.queue, "start"):
            self.queue.start()
            self._started = True

    def close(self) -> None:
        if self._started:
            self.queue.stop()
            self._started = False
        self.store.close()
