# SPDX-License-Identifier: Apache-2.0
"""A team's vectors as one float32 matrix in this process, for exact nearest-neighbour search in
a few milliseconds where sqlite-vec's scan of the same rows takes a hundred.

It is derived data, like the indexes: SQLite (`memories_vec`) stays the source of truth. Each
search reads the team's `vector_state` row (one indexed lookup): vectors appended past the known
maximum are read incrementally; any other change (a rewrite, a forget, a reindex) bumps the
generation and the team is reloaded. A team whose matrix would not fit the byte budget is not
cached, and search falls back to sqlite-vec.

Up to `SHORTLIST` vectors are scanned exactly. Past that, a scan of the float matrix is bound by
memory bandwidth (150 MB at 100k memories), so a 48-byte sign code per vector picks the
`SHORTLIST` closest by Hamming distance first, and those are ranked exactly: recall of the exact
top 10 is measured in bench/search.py.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

DIM = 384
CHUNK = 500
SHORTLIST = 2048
CODE_WORDS = DIM // 64  # a sign bit per dimension, as uint64 words
HAVE_POPCOUNT = hasattr(np, "bitwise_count")  # numpy 2


@dataclass
class _Team:
    generation: int = -1
    max_pk: int = 0
    n: int = 0
    matrix: np.ndarray = field(default_factory=lambda: np.zeros((0, DIM), np.float32))
    pks: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    projects: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    kinds: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    codes: np.ndarray = field(default_factory=lambda: np.zeros((CODE_WORDS, 0), np.uint64))  # word-major
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
            codes = np.zeros((CODE_WORDS, cap), np.uint64)
            codes[:, : self.n] = self.codes[:, : self.n]
            self.codes = codes
        vecs = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), DIM)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        end = self.n + len(rows)
        self.matrix[self.n:end] = vecs / norms
        self.codes[:, self.n:end] = sign_code(vecs).T
        self.pks[self.n:end] = [r[0] for r in rows]
        self.projects[self.n:end] = [self.project_codes.setdefault(r[2], len(self.project_codes)) for r in rows]
        self.kinds[self.n:end] = [kind_codes.get(r[3], -1) for r in rows]
        self.n = end


def sign_code(vecs: np.ndarray) -> np.ndarray:
    """One bit per dimension (positive or not), packed into uint64 words."""
    packed = np.packbits(np.atleast_2d(vecs) > 0, axis=1)
    return np.ascontiguousarray(packed).view(np.uint64)


class _Closing(Exception):
    """Raised inside a background load when the cache is closed under it."""


def _hamming(codes: np.ndarray, code: np.ndarray, n: int, rows: np.ndarray | None) -> np.ndarray:
    """Bits differing from `code`, word by word over contiguous arrays (six times faster than
    a row-wise sum)."""
    distance = np.zeros(n if rows is None else len(rows), np.int16)
    for w in range(CODE_WORDS):
        words = codes[w, :n] if rows is None else codes[w, rows]
        distance += np.bitwise_count(words ^ code[w])
    return distance


def _closest(distance: np.ndarray, m: int) -> np.ndarray:
    """The positions of the (at least) `m` smallest Hamming distances, ties at the cut kept, in
    ascending position order: a histogram of the few possible distances finds the cut (a sixth of
    argpartition's time), and sorted positions make the gather that follows read memory in order."""
    cut = int(np.searchsorted(np.cumsum(np.bincount(distance, minlength=DIM + 1)), m))
    return np.flatnonzero(distance <= cut)


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
        self._threads: list[threading.Thread] = []
        self._closed = False
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
        cursor = db.execute("select memory_pk, embedding, project_id, kind from memories_vec"
                            " where team_id = ? and memory_pk <= ? order by memory_pk", (team_id, max_pk))
        while rows := cursor.fetchmany(4 * CHUNK):
            if self._closed:  # the store is closing: stop reading from it now
                raise _Closing
            team.append(rows, self.KINDS)
            if team.n * DIM * 4 > self.max_bytes:  # over budget: stop reading, _install refuses it
                break
        return team

    def _install(self, team_id: str, team: _Team) -> _Team | None:
        if team.n * DIM * 4 > self.max_bytes:
            self._teams.pop(team_id, None)
            self._too_big[team_id] = team.generation
            return None
        self._teams[team_id] = team
        return team

    def _load_in_background(self, team_id: str) -> None:
        try:
            if self._closed:
                return
            with self.store.read() as db:
                team = self._full(db, team_id)
            with self._lock:
                self._install(team_id, team)
        except _Closing:
            pass
        except Exception:  # a failed load leaves the team on sqlite-vec; the next search retries
            log.exception("loading the vectors of team %s failed", team_id)
        finally:
            self.store.release_thread_conn()  # this thread ends: its connection must not linger
            with self._lock:
                self._loading.discard(team_id)

    def _start_load(self, team_id: str) -> None:
        """Under the lock: load a team in a thread unless one is loading it already."""
        if team_id in self._loading or self._closed:
            return
        self._loading.add(team_id)
        thread = threading.Thread(target=self._load_in_background, args=(team_id,), daemon=True,
                                  name=f"vectors-{team_id}")
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def warm(self, team_id: str) -> None:
        """Start loading a team now (at server start), so its first search is already fast."""
        with self._lock:
            if team_id not in self._teams:
                self._start_load(team_id)

    def close(self) -> None:
        """Wait for loads in flight: the store's connections must not close under them."""
        with self._lock:
            self._closed = True
            threads = list(self._threads)
        for thread in threads:
            thread.join()

    def ready(self, db: Any, team_id: str) -> _Team | None:
        """The team's vectors brought up to date with the database (one indexed read, plus any
        appended vectors), or None while they load or when they are over the byte budget."""
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
            self._start_load(team_id)
            return None

    def cosine(self, db: Any, team_id: str, query: np.ndarray, pks: list[int]) -> np.ndarray | None:
        """The query's cosine similarity to each memory of `pks`: -inf for one that is not the
        team's or has no vector; None while the team is loading or over the byte budget."""
        team = self.ready(db, team_id)
        if team is None:
            return None
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        q = q / (float(np.linalg.norm(q)) or 1.0)
        have = team.pks[: team.n]  # ascending: loads and appends both read in pk order
        want = np.asarray(pks, dtype=np.int64)
        at = np.minimum(np.searchsorted(have, want), max(team.n - 1, 0))
        found = have[at] == want if team.n else np.zeros(len(want), bool)
        sims = np.full(len(want), -np.inf, np.float32)
        sims[found] = team.matrix[at[found]] @ q
        return sims

    def knn(self, db: Any, team_id: str, query: np.ndarray, k: int, project_ids: list[str] | None = None,
            kinds: list[str] | None = None) -> list[tuple[int, float]] | None:
        """The k nearest (memory pk, cosine distance), filtered by project and kind; None while the
        team is loading or when it is over the byte budget: use sqlite-vec then."""
        team = self.ready(db, team_id)
        if team is None:
            return None
        n = team.n
        if n == 0:
            return []
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        q = q / (float(np.linalg.norm(q)) or 1.0)
        keep = None
        if project_ids is not None:
            codes = [team.project_codes[p] for p in project_ids if p in team.project_codes]
            # One project (every context pack, most searches): a comparison, 15 times faster than isin.
            keep = team.projects[:n] == codes[0] if len(codes) == 1 else np.isin(team.projects[:n], codes)
        if kinds is not None:
            by_kind = np.isin(team.kinds[:n], [self.KINDS.get(x, -2) for x in kinds])
            keep = by_kind if keep is None else keep & by_kind
        rows = np.flatnonzero(keep) if keep is not None else None
        count = n if rows is None else len(rows)
        if count == 0:
            return []
        if count > SHORTLIST and HAVE_POPCOUNT and k < SHORTLIST:
            near = _closest(_hamming(team.codes, sign_code(q)[0], n, rows), SHORTLIST)
            rows = near if rows is None else rows[near]
        sims = team.matrix[:n] @ q if rows is None else team.matrix[rows] @ q
        k = min(k, len(sims))
        top = np.argpartition(-sims, k - 1)[:k]
        top = top[np.argsort(-sims[top], kind="stable")]
        index = top if rows is None else rows[top]
        return [(int(team.pks[i]), float(1.0 - s)) for i, s in zip(index, sims[top], strict=True)]
