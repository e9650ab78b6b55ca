# SPDX-License-Identifier: Apache-2.0
"""The queue-engine contract.

An engine is handed `drain(session_id)` and guarantees: (a) at most one drain of a session runs at
a time, (b) a session with pending events is always drained eventually, after any crash or
restart, (c) sessions drain in parallel. Events live in SQLite; an engine carries session ids
only, and holds no business logic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol


class DrainResult(Protocol):
    processed: int
    more: bool


DrainFn = Callable[[str], DrainResult]


class QueueEngine(Protocol):
    name: str

    def start(self) -> None:
        """Begin draining (threads, consumers); also schedules a first sweep for recovery."""

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the drains under way and stop."""

    def notify(self, session_id: str) -> bool:
        """Ask for a drain of `session_id`. False when the wake-up could not be delivered; the
        events stay pending and the periodic sweep delivers it later."""

    def status(self) -> dict[str, Any]:
        """`{"healthy": bool, "detail": str, ...}` for /readyz, /v1/info and `server status`."""
