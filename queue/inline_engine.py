# SPDX-License-Identifier: Apache-2.0
"""The inline engine: for one-shot commands on the local data directory (`claude-mem import ...`
with no server). Wake-ups are collected while the command runs; `run()` then drains those
sessions in the calling thread, so the command ends with its events distilled."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class InlineEngine:
    name = "inline"

    def __init__(self, drain: Callable[[str], Any]):
        self.drain = drain
        self.sessions: dict[str, None] = {}

    def notify(self, session_id: str) -> bool:
        self.sessions[session_id] = None
        return True

    def status(self) -> dict[str, Any]:
        return {"healthy": True, "detail": f"{len(self.sessions)} session(s) to drain when the command ends"}

    def run(self) -> int:
        """Drain every notified session to the end; returns the events processed."""
        processed = 0
        while self.sessions:
            session_id = next(iter(self.sessions))
            out = self.drain(session_id)
            processed += out.processed
            if not out.more:
                del self.sessions[session_id]
            elif out.processed == 0 and out.failed == 0:
                del self.sessions[session_id]  # backing off after a failure: the server will retry
        return processed
