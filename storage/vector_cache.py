# SPDX-License-Identifier: Apache-2.0
"""A team's vectors as one float32 matrix in this process, for exact nearest-neighbour search in
a few milliseconds where sqlite-vec's scan of the same rows takes a hundred.

It is derived data, like the indexes: SQLite (`memories_vec`) stays the source of truth. Each
search reads the team's `vector_state` row (one indexed lookup): vectors appended past the known
maximum are read incrementally; any other change (a rewrite, a forget, a reindex) bumps the
generation and the team is reloaded. A team whose matrix would not fit the byte budget is not
cached, and search falls back to sqlite-vec. Results are exact (a full scan), not approximate.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

DIM = 384
CHUNK = 500


@dataclass
class _Team:
    generation: int = -1
    max_pk: int = 0
    n: int = 0
    matrix: np.ndarray = field(default_factory=lambda: np.zeros((0, DIM), np.float32))
    pks: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    projects: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    kinds: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    project_codes: dict[str, int] = field(default_factory=dict)

    def append(self, rows: list[tuple[int, bytes, str, str]], kind_codes: dict[str, int]) -> None:
        if not rows:
            return
        need = self.n + len(rows)
        if need > len(self.pks):  # grow by doubling: appends stay cheap, readers keep their views
            cap = max(need, 2 * len(self.pks), 1024)
            self.matrix = _grow(self.matrix, (cap, DIM))
            self.pks = _grow(self.pks, (cap,))
            self.projects = _grow(self.projects, (cap,))
            self.kinds = _grow(self.kinds, (cap,))
        vecs = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), DIM)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        end = self.n + len(rows)
        self.matrix[self.n:end] = vecs / norms
        self.pks[self.n:end] = [r[0] for r in rows]
        self.projects[self.n:end] = [self.project_codes.setdefault(r[2], len(self.project_codes)) for r in rows]
        self.kinds[self.n:end] = [kind_codes.get(r[3], -1) for r in rows]
        self.n = end


def _grow(a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    out = np.zeros(shape, a.dtype)
    out[: len(a)] = a
    return out


class VectorCache:
    KINDS = {"observation": 0, "decision": 1, "summary": 2, "note": 3}

    def __init__(self, store: Any, max_bytes: int, *, background: bool = True):
        """`background`: a full (re)load runs in a thread while searches use sqlite-vec, so no
        search waits seconds for it; appends are always read inline (a few rows)."""
        self.store = store
        self.max_bytes = max_bytes
        self.background = background
        self._teams: dict[str, _Team] = {}
        self._loading: set[str] = set()
        self._too_big: dict[str, int] = {}  # team -> generation found over budget
        self._lock = threading.Lock()

    @staticmethod
    def _state(db: Any, team_id: str) -> tuple[int, int]:
        row = db.execute("select generation, max_pk from vector_state where team_id = ?", (team_id,)).fetchone()
        return (row[0], row[1]) if row else (0, 0)

    @staticmethod
    def _appended(db: Any, team_id: str, after: int, upto: int) -> list[tuple[int, bytes, str, str]]:
        pks = [r[0] for r in db.execute(
            "select pk from memories where team_id = ? and pk > ? and pk <= ? and forgotten_at is null order by pk",
            (team_id, after, upto))]
        out: list[tuple[int, bytes, str, str]] = []
        for i in range(0, len(pks), CHUNK):
            part = pks[i:i + CHUNK]
            out += db.execute(
                "select memory_pk, embedding, project_id, kind from memories_vec"
                f" where memory_pk in ({','.join('?' * len(part))})", part).fetchall()
        out.sort(key=lambda r: r[0])
        return out

    def _full(self, db: Any, team_id: str) -> _Team:
        """The team read in one snapshot: its state and every vector up to its maximum."""
        generation, max_pk = self._state(db, team_id)
        team = _Team(generation=generation, max_pk=max_pk)
        rows = db.execute("select memory_pk, embedding, project_id, kind from memories_vec"
                          " where team_id = ? order by memory_pk", (team_id,)).fetchall()
        team.append([r for r in rows if r[0] <= max_pk], self.KINDS)
        return team

    def _install(self, team_id: str, team: _Team) -> _Team | None:
        if team.matrix.nbytes > self.max_bytes:
            self._teams.pop(team_id, None)
            self._too_big[team_id] = team.generation
            return None
        self._teams[team_id] = team
        return team

    def _load_in_background(self, team_id: str) -> None:
        try:
            with self.store.read() as db:
                team = self._full(db, team_id)
            with self._lock:
                self._install(team_id, team)
        finally:
            with self._lock:
                self._loading.discard(team_id)

    def warm(self, team_id: str) -> None:
        """Start loading a team now (at server start), so its first search is already fast."""
        with self._lock:
            if team_id in self._teams or team_id in self._loading:
                return
            self._loading.add(team_id)
        threading.Thread(target=self._load_in_background, args=(team_id,), daemon=True,
                         name=f"vectors-{team_id}").start()

    def _ready(self, db: Any, team_id: str) -> _Team | None:
        generation, max_pk = self._state(db, team_id)
        with self._lock:
            if self._too_big.get(team_id) == generation:
                return None
            team = self._teams.get(team_id)
            if team is not None and team.generation == generation:
                if max_pk > team.max_pk:
                    team.append(self._appended(db, team_id, team.max_pk, max_pk), self.KINDS)
                    team.max_pk = max_pk
                    return self._install(team_id, team)
                return team
            if not self.background:
                return self._install(team_id, self._full(db, team_id))
            if team_id not in self._loading:
                self._loading.add(team_id)
                threading.Thread(target=self._load_in_background, args=(team_id,), daemon=True,
                                 name=f"vectors-{team_id}").start()
            return None

    def knn(self, db: Any, team_id: str, query: np.ndarray, k: int, project_ids: list[str] | None = None,
            kinds: list[str] | None = None) -> list[tuple[int, float]] | None:
        """The k nearest (memory pk, cosine distance), filtered by project and kind; None while the
        team is loading or when it is over the byte budget: use sqlite-vec then."""
        team = self._ready(db, team_id)
        if team is None:
            return None
        n = team.n
        if n == 0:
            return []
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        norm = float(np.linalg.norm(q)) or 1.0
        sims = team.matrix[:n] @ (q / norm)
        if project_ids is not None:
            codes = [team.project_codes[p] for p in project_ids if p in team.project_codes]
            sims = np.where(np.isin(team.projects[:n], codes), sims, -np.inf)
        if kinds is not None:
            sims = np.where(np.isin(team.kinds[:n], [self.KINDS.get(x, -2) for x in kinds]), sims, -np.inf)
        k = min(k, n)
        top = np.argpartition(-sims, k - 1)[:k]
        top = top[np.argsort(-sims[top], kind="stable")]
        return [(int(team.pks[i]), float(1.0 - sims[i])) for i in top if np.isfinite(sims[i])]
