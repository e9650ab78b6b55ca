# SPDX-License-Identifier: Apache-2.0
"""Memories repository: rows, their sources and files, and the FTS5 index derived from them."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import fts
from .ids import new_id
from .jsoncol import dumps, loads

TEXT_FIELDS = ("title", "subtitle", "narrative")
LIST_FIELDS = ("facts", "concepts", "files_read", "files_modified")


@dataclass
class NewMemory:
    """What a writer hands the repository; ids, hash and times are filled in here when absent."""

    project_id: str
    kind: str
    narrative: str = ""
    title: str = ""
    subtitle: str = ""
    type: str | None = None
    session_id: str | None = None
    facts: list[str] = field(default_factory=list)
    concepts: list[str] = field(default_factory=list)
    files_read: list[str] = field(default_factory=list)
    files_modified: list[str] = field(default_factory=list)
    metadata: dict = field(default_factory=dict)
    id: str | None = None
    created_at: int | None = None
    updated_at: int | None = None
    superseded_by: str | None = None
    forgotten_at: int | None = None
    content_hash: str | None = None


def content_hash(kind: str, title: str, narrative: str, facts: list[str]) -> str:
    h = hashlib.sha256("\0".join([kind, title, narrative, *facts]).encode("utf-8"))
    return h.hexdigest()[:32]


def get(db: Any, team_id: str, memory_id: str) -> Any:
    return db.execute("select * from memories where team_id = ? and id = ?",
                      (team_id, memory_id)).fetchone()


def get_many(db: Any, team_id: str, ids: list[str]) -> list[Any]:
    if not ids:
        return []
    # `+team_id`: look the ids up by their unique index; without statistics the planner would
    # walk the whole team by `memories_recent` instead (80 ms at 100k memories).
    rows = db.execute(f"select * from memories where +team_id = ? and id in ({','.join('?' * len(ids))})",
                      (team_id, *ids)).fetchall()
    order = {mid: i for i, mid in enumerate(ids)}
    return sorted(rows, key=lambda r: order[r["id"]])


def sources(db: Any, memory_id: str) -> list[str]:
    return [r[0] for r in db.execute(
        "select event_id from memory_sources where memory_id = ? order by event_id", (memory_id,))]


def superseded(db: Any, team_id: str, memory_id: str) -> list[str]:
    """The memories that `memory_id` replaced, oldest first."""
    return [r[0] for r in db.execute(
        "select id from memories where superseded_by = ? and +team_id = ? order by created_at, pk",
        (memory_id, team_id))]


Embed = Callable[[list[str]], Any]  # texts -> float32 array (n, dimensions)


def vector_text(row: Any) -> str:
    """What a memory's vector is computed from. A title cut from the narrative's first line is
    left out: counted twice, its words would outweigh the rest of a mean-pooled vector (LoCoMo
    vector recall@5 0.434 with it, 0.452 without)."""
    facts = " ".join(loads(row["facts"], [])[:10])
    narrative = row["narrative"][:2000]
    title = row["title"]
    if title and narrative.lstrip().startswith(title.removesuffix("…").rstrip()):
        title = ""
    return f"{title}\n{row['subtitle']}\n{narrative}\n{facts}"


def set_vectors(db: Any, rows: list[Any], embed: Embed) -> None:
    live = [r for r in rows if r["forgotten_at"] is None]
    if not live:
        return
    vectors = embed([vector_text(r) for r in live])
    for row, vec in zip(live, vectors, strict=True):
        db.execute("delete from memories_vec where memory_pk = ?", (row["pk"],))
        db.execute("insert into memories_vec (memory_pk, team_id, embedding, project_id, kind)"
                   " values (?, ?, ?, ?, ?)", (row["pk"], row["team_id"], vec.tobytes(), row["project_id"],
                                               row["kind"]))
    by_team: dict[str, list[int]] = {}
    for row in live:
        by_team.setdefault(row["team_id"], []).append(row["pk"])
    for team_id, pks in by_team.items():
        note_vectors(db, team_id, min(pks), max(pks))


def note_vectors(db: Any, team_id: str, low_pk: int, high_pk: int) -> None:
    """Record written vectors in `vector_state`: past the known maximum they are an append;
    anything else (a rewrite, an out-of-order write) is a new generation."""
    state = db.execute("select max_pk from vector_state where team_id = ?", (team_id,)).fetchone()
    if state is not None and low_pk <= state[0]:
        bump_vectors(db, team_id, high_pk)
    else:
        db.execute("insert into vector_state (team_id, max_pk) values (?, ?) on conflict (team_id)"
                   " do update set max_pk = max(max_pk, excluded.max_pk)", (team_id, high_pk))


def bump_vectors(db: Any, team_id: str, high_pk: int = 0) -> None:
    db.execute("insert into vector_state (team_id, max_pk, generation) values (?, ?, 1) on conflict (team_id)"
               " do update set generation = generation + 1, max_pk = max(max_pk, excluded.max_pk)",
               (team_id, high_pk))


def _index(db: Any, pk: int, row: Any, embed: Embed | None = None) -> None:
    """(Re)write the FTS5 row, file index and vector of one memory from its stored row."""
    db.execute("delete from memories_fts where rowid = ?", (pk,))
    db.execute("delete from memory_files where memory_pk = ?", (pk,))
    if row["forgotten_at"] is not None:
        return
    if embed is not None:
        set_vectors(db, [row], embed)
    files_read, files_modified = loads(row["files_read"], []), loads(row["files_modified"], [])
    title, body, extra = fts.document(
        row["title"],
        [row["subtitle"], row["narrative"], *loads(row["facts"], [])],
        [*files_read, *files_modified, *loads(row["concepts"], []), row["type"] or "", row["kind"]],
    )
    db.execute("insert into memories_fts (rowid, title, body, extra, scope) values (?, ?, ?, ?, ?)",
               (pk, title, body, extra, fts.project_token(row["project_id"]) or ""))
    for role, paths in (("read", files_read), ("modified", files_modified)):
        for path in dict.fromkeys(paths):
            db.execute("insert or ignore into memory_files (memory_pk, team_id, path, role)"
                       " values (?, ?, ?, ?)", (pk, row["team_id"], path, role))


def insert(db: Any, team_id: str, m: NewMemory, now: int,
           source_event_ids: tuple[str, ...] = (), embed: Embed | None = None) -> tuple[Any, bool]:
    """Write a memory; a same-content memory in the same session is returned instead (dedupe)."""
    mid = m.id or new_id("mem")
    if m.forgotten_at is not None:
        chash = f"forgotten:{mid}"  # tombstones never dedupe against each other
    else:
        chash = m.content_hash or content_hash(m.kind, m.title, m.narrative, m.facts)
    row = None
    if m.session_id and m.forgotten_at is None:
        row = db.execute("select * from memories where session_id = ? and content_hash = ?",
                         (m.session_id, chash)).fetchone()
    created = row is None
    if created:
        db.execute(
            "insert into memories (id, team_id, project_id, session_id, kind, type, title, subtitle,"
            " narrative, facts, concepts, files_read, files_modified, content_hash, created_at,"
            " updated_at, superseded_by, forgotten_at, metadata)"
            " values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (mid, team_id, m.project_id, m.session_id, m.kind, m.type, m.title, m.subtitle,
             m.narrative, dumps(m.facts), dumps(m.concepts), dumps(m.files_read),
             dumps(m.files_modified), chash, m.created_at or now, m.updated_at or m.created_at or now,
             m.superseded_by, m.forgotten_at, dumps(m.metadata)),
        )
        row = get(db, team_id, mid)
        _index(db, row["pk"], row, embed)
    for eid in source_event_ids:
        db.execute("insert or ignore into memory_sources (memory_id, event_id) values (?, ?)",
                   (row["id"], eid))
    return row, created


def update(db: Any, team_id: str, memory_id: str, changes: dict[str, Any], now: int,
           embed: Embed | None = None) -> Any:
    """Apply field changes (text fields as str, list fields as lists, metadata as dict)."""
    row = get(db, team_id, memory_id)
    if row is None:
        return None
    cols, args = [], []
    for key, value in changes.items():
        cols.append(f"{key} = ?")
        args.append(dumps(value) if key in LIST_FIELDS or key == "metadata" else value)
    merged = {k: row[k] for k in row.keys()} | {
        k: (dumps(v) if k in LIST_FIELDS or k == "metadata" else v) for k, v in changes.items()}
    cols += ["content_hash = ?", "updated_at = ?"]
    args += [content_hash(merged["kind"], merged["title"], merged["narrative"],
                          loads(merged["facts"], [])), now]
    db.execute(f"update memories set {', '.join(cols)} where pk = ?", (*args, row["pk"]))
    row = get(db, team_id, memory_id)
    _index(db, row["pk"], row, embed)
    return row


def supersede(db: Any, team_id: str, memory_id: str, by_id: str, now: int) -> None:
    db.execute("update memories set superseded_by = ?, updated_at = ? where team_id = ? and id = ?",
               (by_id, now, team_id, memory_id))


def forget(db: Any, team_id: str, memory_ids: list[str], now: int) -> list[str]:
    """Tombstone memories: their text is erased, their index rows and source payloads too."""
    done = []
    for mid in memory_ids:
        row = get(db, team_id, mid)
        if row is None or row["forgotten_at"] is not None:
            continue
        db.execute(
            "update memories set title = '', subtitle = '', narrative = '', facts = '[]',"
            " concepts = '[]', files_read = '[]', files_modified = '[]', metadata = '{}',"
            " content_hash = 'forgotten:' || id, forgotten_at = ?, updated_at = ? where pk = ?",
            (now, now, row["pk"]))
        db.execute("delete from memories_fts where rowid = ?", (row["pk"],))
        db.execute("delete from memory_files where memory_pk = ?", (row["pk"],))
        if has_vec(db):
            db.execute("delete from memories_vec where memory_pk = ?", (row["pk"],))
            bump_vectors(db, team_id)
        db.execute("update events set payload = '{\"forgotten\":true}' where team_id = ? and id in"
                   " (select event_id from memory_sources where memory_id = ?)", (team_id, mid))
        done.append(mid)
    return done


def has_vec(db: Any) -> bool:
    return db.execute("select 1 from sqlite_master where name = 'memories_vec'").fetchone() is not None


@dataclass
class Filters:
    """Search and listing filters; every query is already bound to one team."""

    project_ids: list[str] | None = None
    kinds: list[str] | None = None
    types: list[str] | None = None
    files: list[str] | None = None
    session_id: str | None = None
    since: int | None = None
    until: int | None = None
    include_superseded: bool = False


def _where(team_id: str, f: Filters) -> tuple[str, list[Any]]:
    sql = ["m.team_id = ?", "m.forgotten_at is null"]
    args: list[Any] = [team_id]
    if not f.include_superseded:
        sql.append("m.superseded_by is null")
    for col, values in (("m.project_id", f.project_ids), ("m.kind", f.kinds), ("m.type", f.types)):
        if values is not None:
            sql.append(f"{col} in ({','.join('?' * len(values))})" if values else "0")
            args += values
    if f.session_id:
        sql.append("m.session_id = ?")
        args.append(f.session_id)
    if f.since is not None:
        sql.append("m.created_at >= ?")
        args.append(f.since)
    if f.until is not None:
        sql.append("m.created_at <= ?")
        args.append(f.until)
    if f.files:
        ors, file_args = [], [team_id]
        for path in f.files:
            esc = path.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            ors.append("mf.path = ? or mf.path like ? escape '\\'")
            file_args += [path, "%/" + esc.lstrip("/")]
        sql.append("m.pk in (select mf.memory_pk from memory_files mf where mf.team_id = ?"
                   f" and ({' or '.join(ors)}))")
        args += file_args
    return " and ".join(sql), args


def search_fts(db: Any, team_id: str, match: str, f: Filters, limit: int) -> list[Any]:
    """BM25-ranked matches (split identifiers and paths count less), each with `rank` (lower is
    better); `snippets` cuts the page's snippets afterwards.

    Ranked first, whole rows for the page only. The matches drive the join (CROSS JOIN fixes the order): the
    planner otherwise walks the whole team's memories and probes the matches, ten times slower."""
    where, args = _where(team_id, f)
    ranked = db.execute(
        "with hits as materialized (select rowid, bm25(memories_fts, 1.0, 1.0, 0.3, 0.0) as rank from memories_fts"
        " where memories_fts match ?)"
        f" select m.pk, hits.rank from hits cross join memories m on m.pk = hits.rowid where {where}"
        " order by hits.rank, m.pk limit ?", (fts.within_projects(match, f.project_ids), *args, limit)).fetchall()
    if not ranked:
        return []
    rank = dict(ranked)  # whole rows for the page only, not for every match
    found = {r["pk"]: r for r in db.execute(
        f"select m.* from memories m where m.pk in ({','.join('?' * len(ranked))})", list(rank)).fetchall()}
    return [Scored(found[pk], rank[pk]) for pk in rank]


def fts_rowids(db: Any, match: str, project_ids: list[str] | None) -> list[int]:
    """The rowids that `match` finds in FTS5, narrowed to projects by their scope words where it
    can be, unranked (no BM25: a third of the cost when a thousand match) and not yet checked
    against the team or any filter: every caller passes them through `rows_matching`."""
    return [r[0] for r in db.execute("select rowid from memories_fts where memories_fts match ?",
                                     (fts.within_projects(match, project_ids),))]


def fts_count_upto(db: Any, match: str, project_ids: list[str] | None, cap: int) -> int:
    """How many rows `match` finds (in the projects, where FTS5 can narrow to them), counting no
    further than `cap`: a word's document frequency, read at the cost of `cap` rows at most."""
    return db.execute("select count(*) from (select 1 from memories_fts where memories_fts match ? limit ?)",
                      (fts.within_projects(match, project_ids), cap)).fetchone()[0]


def fts_snippets(db: Any, match: str, pks: list[int]) -> dict[int, str]:
    """The body's best 16-token window around the matched words, from FTS5, for the page's
    memories only (a hybrid search scores fifty candidates)."""
    if not pks:
        return {}
    return dict(db.execute(
        "select rowid, snippet(memories_fts, 1, '[', ']', '…', 16) from memories_fts"
        f" where memories_fts match ? and rowid in ({','.join('?' * len(pks))})", (match, *pks)).fetchall())


def snippets(db: Any, query: str, match: str, rows: list[Any]) -> dict[int, str]:
    """Snippets for the page's rows: cut here from the text already read (FTS5's snippet()
    re-runs the query for each row: 3 ms a page at 100k memories), from FTS5 only for a memory
    whose match lies past the first few thousand characters."""
    terms = fts.query_terms(query)
    out: dict[int, str] = {}
    memo: dict[str, int] = {}
    for r in rows:
        cut = fts.snippet(_body(r), terms, memo=memo)
        if cut is not None:
            out[r["pk"]] = cut
    missing = [r["pk"] for r in rows if r["pk"] not in out]
    return out | fts_snippets(db, match, missing)


def _body(row: Any) -> str:
    """The FTS5 body column's text (subtitle, narrative, facts), as `_index` writes it."""
    return "\n".join(p for p in [row["subtitle"], row["narrative"], *loads(row["facts"], [])] if p)


class Scored:
    """A memory row that also answers `rank` (lower is better)."""

    __slots__ = ("row", "rank")

    def __init__(self, row: Any, rank: float):
        self.row, self.rank = row, rank

    def __getitem__(self, key: str) -> Any:
        return self.rank if key == "rank" else self.row[key]

    def keys(self) -> list[str]:
        return [*self.row.keys(), "rank"]


def recent(db: Any, team_id: str, f: Filters, limit: int, *, oldest_first: bool = False) -> list[Any]:
    where, args = _where(team_id, f)
    order = "asc" if oldest_first else "desc"
    return db.execute(f"select m.* from memories m where {where}"
                      f" order by m.created_at {order}, m.pk {order} limit ?",
                      (*args, limit)).fetchall()


def around(db: Any, team_id: str, anchor: Any, before: int, after: int, f: Filters) -> list[Any]:
    """Memories of the anchor's project just before and after it, oldest first."""
    where, args = _where(team_id, f)
    older = db.execute(
        f"select m.* from memories m where {where} and (m.created_at, m.pk) < (?, ?)"
        " order by m.created_at desc, m.pk desc limit ?",
        (*args, anchor["created_at"], anchor["pk"], before)).fetchall()
    newer = db.execute(
        f"select m.* from memories m where {where} and (m.created_at, m.pk) > (?, ?)"
        " order by m.created_at, m.pk limit ?",
        (*args, anchor["created_at"], anchor["pk"], after)).fetchall()
    return [*reversed(older), anchor, *newer]


_BEFORE = "select * from (select {src} as src, pk from memories where {stream} and forgotten_at is null" \
    " and (created_at, pk) < (?, ?) order by created_at desc, pk desc limit {n})"
_AFTER = "select * from (select {src} as src, pk from memories where {stream} and forgotten_at is null" \
    " and (created_at, pk) > (?, ?) order by created_at, pk limit {n})"
_SESSION = "session_id = ?"
_UNSESSIONED = "team_id = ? and project_id = ? and session_id is null"


def neighbours(db: Any, team_id: str, rows: list[Any], window: int) -> dict[int, list[int]]:
    """For each row, the pks of up to `window` live memories just before and just after it in its
    stream: its session's memories, or its project's memories without a session when it has none,
    in (created_at, pk) order. One statement of short index walks (memories_session,
    memories_unsessioned), nearest first on each side."""
    out: dict[int, list[int]] = {row["pk"]: [] for row in rows}
    if not rows:
        return out
    parts: list[str] = []
    args: list[Any] = []
    for row in rows:
        if row["session_id"] is not None:
            stream, key = _SESSION, [row["session_id"]]
        else:
            stream, key = _UNSESSIONED, [team_id, row["project_id"]]
        for template in (_BEFORE, _AFTER):
            parts.append(template.format(src=int(row["pk"]), stream=stream, n=int(window)))
            args += [*key, row["created_at"], row["pk"]]
    for src, pk in db.execute(" union all ".join(parts), args):
        out[src].append(pk)
    return out


def rows_matching(db: Any, team_id: str, pks: list[int], f: Filters) -> list[Any]:
    """The rows of `pks` that pass the filters, in no particular order. The pks drive the join
    (CROSS JOIN): else the planner may walk the team's index."""
    if not pks:
        return []
    where, args = _where(team_id, f)
    return db.execute(
        f"with c(pk) as (values {','.join(['(?)'] * len(pks))})"
        f" select m.* from c cross join memories m on m.pk = c.pk where {where}", (*pks, *args)).fetchall()


def ids_matching(db: Any, team_id: str, f: Filters) -> list[str]:
    where, args = _where(team_id, f)
    return [r[0] for r in db.execute(f"select m.id from memories m where {where} order by m.pk", args)]


def reindex(db: Any, team_id: str | None = None, embed: Embed | None = None) -> int:
    """Rebuild the FTS5, file and vector indexes from the memory rows (all teams when `team_id`
    is None). Without `embed` the team's vectors are dropped (full-text only)."""
    vec = has_vec(db)
    if team_id is None:
        db.execute("delete from memories_fts")
        db.execute("delete from memory_files")
        if vec:
            db.execute("delete from memories_vec")
            db.execute("update vector_state set generation = generation + 1")
        rows = db.execute("select * from memories").fetchall()
    else:
        db.execute("delete from memories_fts where rowid in (select pk from memories where team_id = ?)",
                   (team_id,))
        db.execute("delete from memory_files where team_id = ?", (team_id,))
        if vec:
            db.execute("delete from memories_vec where team_id = ?", (team_id,))
            bump_vectors(db, team_id)
        rows = db.execute("select * from memories where team_id = ?", (team_id,)).fetchall()
    for row in rows:
        _index(db, row["pk"], row)
    if embed is not None and vec:
        for i in range(0, len(rows), 512):
            set_vectors(db, rows[i:i + 512], embed)
    return len(rows)


def search_vector(db: Any, team_id: str, query_vector: bytes, f: Filters, limit: int,
                  cache: Any = None) -> list[Any]:
    """Nearest memories by cosine distance (KNN inside the team's partition), filtered; each row
    with `distance`. Fetches extra neighbours so that filters applied afterwards still fill `limit`.
    With a `VectorCache` the scan runs in memory; without one (or over its budget) in sqlite-vec."""
    k = min(4096, max(limit * 4, 64))
    if f.project_ids is not None and not f.project_ids or f.kinds is not None and not f.kinds:
        return []
    hits = None
    if cache is not None:
        import numpy as np
        hits = cache.knn(db, team_id, np.frombuffer(query_vector, dtype=np.float32), k, f.project_ids, f.kinds)
    if hits is None:
        hits = _knn_sqlite(db, team_id, query_vector, f, k)
    if not hits:
        return []
    distance = {h[0]: h[1] for h in hits}
    ranked = sorted(distance, key=lambda pk: (distance[pk], pk))
    out: list[Any] = []
    step = limit + 16  # most candidates pass the filters: fetch a page, and more only if needed
    for i in range(0, len(ranked), step):
        rows = rows_matching(db, team_id, ranked[i:i + step], f)
        rows.sort(key=lambda r: (distance[r["pk"]], r["pk"]))
        out += [(r, distance[r["pk"]]) for r in rows]
        if len(out) >= limit:
            break
    return out[:limit]


def _knn_sqlite(db: Any, team_id: str, query_vector: bytes, f: Filters, k: int) -> list[Any]:
    sql = "select memory_pk, distance from memories_vec where embedding match ? and k = ? and team_id = ?"
    args: list[Any] = [query_vector, k, team_id]
    if f.project_ids is not None:
        if not f.project_ids:
            return []
        sql += f" and project_id in ({','.join('?' * len(f.project_ids))})"
        args += f.project_ids
    if f.kinds is not None:
        if not f.kinds:
            return []
        sql += f" and kind in ({','.join('?' * len(f.kinds))})"
        args += f.kinds
    return db.execute(sql, args).fetchall()


def counts(db: Any, team_id: str) -> dict[str, int]:
    return {r[0]: r[1] for r in db.execute(
        "select kind, count(*) from memories where team_id = ? and forgotten_at is null group by kind",
        (team_id,))}


def decode_lists(row: Any) -> dict[str, Any]:
    """The list and metadata columns of a row, decoded."""
    return {k: loads(row[k], []) for k in LIST_FIELDS} | {"metadata": loads(row["metadata"], {})}
