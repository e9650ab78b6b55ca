# SPDX-License-Identifier: Apache-2.0
"""What every handler receives besides its input: who calls, the store, the queue, the settings,
a clock and the request id. The runtime builds it; tests build it the same way."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from claude_mem.storage.store import Store

SCOPES = ("memories:read", "memories:write", "memories:forget", "audit:read", "admin")
LOCAL_TEAM = "team_local"


@dataclass(frozen=True)
class Principal:
    """The caller: a team, optionally pinned to one project, with scopes."""

    team_id: str
    scopes: frozenset[str]
    project_id: str | None = None
    key_id: str | None = None

    def can(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes

    @property
    def operator(self) -> bool:
        """An admin of the built-in local team runs the server: it may manage every team."""
        return self.team_id == LOCAL_TEAM and "admin" in self.scopes and self.project_id is None

    @classmethod
    def local(cls) -> Principal:
        """The local-dev principal: the local team with every scope."""
        return cls(team_id=LOCAL_TEAM, scopes=frozenset(SCOPES))

    @classmethod
    def system(cls, team_id: str) -> Principal:
        """Background work (drains) acting inside one team."""
        return cls(team_id=team_id, scopes=frozenset(SCOPES))


class QueueHandle(Protocol):
    """The part of a queue engine handlers may use."""

    name: str

    def notify(self, session_id: str) -> bool:
        """Wake up a drain of `session_id`; False when the queue is unreachable (work stays pending)."""

    def status(self) -> dict[str, Any]:
        """`{"healthy": bool, "detail": str, ...}`."""


class KeyIssuer(Protocol):
    """Signs API keys (the runtime's keyring)."""

    def issue(self, *, jti: str, team_id: str, project_id: str | None, scopes: list[str],
              expires_at: int | None) -> str:
        """The token for these claims."""


class Embedder(Protocol):
    """Turns texts into unit vectors (the store's vector index is built from them)."""

    name: str

    def embed(self, texts: list[str]) -> Any:
        """float32 array (len(texts), dimensions)."""


class HandlerSettings(Protocol):
    """The settings handlers read (the runtime's Settings has them all)."""

    auth_mode: str
    queue_engine: str
    context_tokens: int
    max_field_chars: int
    max_attempts: int


@dataclass
class Context:
    principal: Principal
    store: Store
    queue: QueueHandle
    settings: HandlerSettings
    request_id: str | None = None
    issuer: KeyIssuer | None = None
    embedder: Embedder | None = None
    vectors: Any = None  # an in-process copy of the vectors (storage.vector_cache), or None
    clock: Callable[[], int] = field(default=lambda: int(time.time() * 1000))

    @property
    def embed(self) -> Any:
        """The embedding function for the store's writes, or None (full-text only)."""
        return self.embedder.embed if self.embedder is not None else None

    def now(self) -> int:
        """Epoch milliseconds."""
        return self.clock()


class NullQueue:
    """A queue that never runs anything: for callers that only read, and for tests of ingest."""

    name = "none"

    def notify(self, session_id: str) -> bool:
        return False

    def status(self) -> dict[str, Any]:
        return {"healthy": True, "detail": "no queue in this process"}
