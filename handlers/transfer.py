# SPDX-License-Identifier: Apache-2.0
"""Export and import as JSONL, and reindex.

An export is a header line then one record per line (projects, sessions, events, memories), each
kind in id order, so that an export imported into an empty server and exported again is
byte-identical apart from its header. Import keeps ids and times, skips what exists already
(re-running adds nothing), and reports bad lines without stopping.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec

from claude_mem.storage import memories as memories_repo
from claude_mem.storage import projects as projects_repo
from claude_mem.storage.jsoncol import dumps
from claude_mem.storage.memories import NewMemory
from claude_mem.storage.vector_index import has_vector_table

from . import contracts as c
from . import views
from .audit import record
from .context import Context
from .import_common import split_lines
from .scoping import visible_project_ids
from .system import version

FORMAT = "claude-mem-export"
FORMAT_VERSION = 1

_enc = msgspec.json.Encoder()


class ProjectRecord(c.Out, tag="project", tag_field="record", kw_only=True):
    id: str
    name: str
    created_at_epoch: int
    metadata: dict[str, Any]


class SessionRecord(c.Session, tag="session", tag_field="record", kw_only=True):
    pass


class EventRecord(c.Event, tag="event", tag_field="record", kw_only=True):
    pass


class MemoryRecord(c.Memory, tag="memory", tag_field="record", kw_only=True):
    pass


Record = ProjectRecord | SessionRecord | EventRecord | MemoryRecord
_record_decoder = msgspec.json.Decoder(Record)


def _as(record_type: type, value: msgspec.Struct) -> msgspec.Struct:
    return record_type(**msgspec.structs.asdict(value))


def _line(value: Any) -> bytes:
    return _enc.encode(value) + b"\n"


def export(req: c.ExportIn, ctx: Context) -> Iterator[bytes]:
    """The export, line by line (the caller streams it)."""
    team = ctx.principal.team_id
    db = ctx.store.conn()
    with ctx.store.read():
        pids = visible_project_ids(ctx, db, name=req.project, project_id=req.project_id)
    where, args = "team_id = ?", [team]
    if pids is not None:
        where += f" and project_id in ({','.join('?' * len(pids))})"
        args += pids
    yield _line({"record": "header", "format": FORMAT, "version": FORMAT_VERSION,
                 "server": version(), "schemaVersion": ctx.store.schema_version(),
                 "exportedAtEpoch": ctx.now()})
    counts = {"projects": 0, "sessions": 0, "events": 0, "memories": 0}
    with ctx.store.read():
        for row in projects_repo.list_all(db, team, pids):
            p = views.project(row)
            counts["projects"] += 1
            yield _line(ProjectRecord(id=p.id, name=p.name, created_at_epoch=p.created_at_epoch,
                                      metadata=p.metadata))
        for row in db.execute(f"select * from sessions where {where} order by id", args):
            counts["sessions"] += 1
            yield _line(_as(SessionRecord, views.session(row)))
        if req.include_events:
            for row in db.execute(f"select * from events where {where} order by id", args):
                counts["events"] += 1
                mids = [r[0] for r in db.execute(
                    "select memory_id from memory_sources where event_id = ? order by memory_id", (row["id"],))]
                yield _line(_as(EventRecord, views.event(row, mids)))
        for row in db.execute(f"select * from memories where {where} order by id", args):
            counts["memories"] += 1
            srcs = memories_repo.sources(db, row["id"]) if req.include_events else []
            yield _line(_as(MemoryRecord, views.memory(row, srcs)))
    with ctx.store.write() as wdb:
        record(ctx, wdb, "memory.exported", count=counts["memories"], detail=counts)


def import_lines(req: c.ImportIn, ctx: Context) -> c.ImportOut:
    team = ctx.principal.team_id
    imported = {"projects": 0, "sessions": 0, "events": 0, "memories": 0}
    skipped = dict(imported)
    errors: list[dict[str, Any]] = []
    project_map: dict[str, str] = {}
    pinned = ctx.principal.project_id
    pending_sessions: set[str] = set()
    with ctx.store.write() as db:
        if req.dry_run:
            db.execute("savepoint dry_run")
        for n, raw in enumerate(split_lines(req.lines or []), start=1):
            if not raw.strip():
                continue
            try:
                head = msgspec.json.decode(raw) if b'"header"' in raw[:64] else None
                if isinstance(head, dict) and head.get("record") == "header":
                    if head.get("format") != FORMAT:
                        errors.append({"line": n, "message": f"not a {FORMAT} file"})
                    continue
                rec = _record_decoder.decode(raw)
            except (msgspec.DecodeError, UnicodeDecodeError) as exc:
                errors.append({"line": n, "message": str(exc)[:300]})
                continue
            kind = type(rec).__name__.removesuffix("Record").lower() + "s"
            kind = "memories" if kind == "memorys" else kind
            db.execute("savepoint import_line")
            try:
                done = _import_one(db, team, rec, project_map, pinned, pending_sessions, ctx.embed)
                db.execute("release import_line")
            except Exception as exc:
                db.execute("rollback to import_line")
                db.execute("release import_line")
                errors.append({"line": n, "message": f"{type(exc).__name__}: {exc}"[:300]})
                continue
            (imported if done else skipped)[kind] += 1
            if len(errors) > 1000:
                break
        if req.dry_run:
            db.execute("rollback to dry_run")
            db.execute("release dry_run")
            return c.ImportOut(imported=imported, skipped=skipped, errors=errors[:100], dry_run=True)
        record(ctx, db, "memory.imported", count=imported["memories"], detail=imported)
    for sid in sorted(pending_sessions):
        ctx.queue.notify(sid)
    return c.ImportOut(imported=imported, skipped=skipped, errors=errors[:100])


def _import_one(db: Any, team: str, rec: Any, project_map: dict[str, str], pinned: str | None,
                pending_sessions: set[str], embed: Any = None) -> bool:
    if isinstance(rec, ProjectRecord):
        existing = projects_repo.get_by_name(db, team, rec.name)
        if existing is not None:
            project_map[rec.id] = existing["id"]
            return False
        if pinned is not None or db.execute("select 1 from projects where id = ?", (rec.id,)).fetchone():
            raise ValueError(f"project {rec.id} cannot be created here")
        projects_repo.create(db, team, rec.name, rec.created_at_epoch, rec.metadata, project_id=rec.id)
        project_map[rec.id] = rec.id
        return True
    project_id = project_map.get(rec.project_id, rec.project_id)
    if projects_repo.get(db, team, project_id) is None or (pinned and pinned != project_id):
        raise ValueError(f"unknown project {rec.project_id}")
    if isinstance(rec, SessionRecord):
        if db.execute("select 1 from sessions where id = ?", (rec.id,)).fetchone():
            return False
        db.execute(
            "insert into sessions (id, team_id, project_id, external_id, platform, agent_id, agent_type,"
            " status, started_at, ended_at, metadata) values (?,?,?,?,?,?,?,?,?,?,?)",
            (rec.id, team, project_id, rec.external_session_id, rec.platform_source, rec.agent_id,
             rec.agent_type, rec.status, rec.started_at_epoch, rec.ended_at_epoch, dumps(rec.metadata)))
        return True
    if isinstance(rec, EventRecord):
        if db.execute("select 1 from events where id = ?", (rec.id,)).fetchone():
            return False
        if db.execute("select 1 from sessions where id = ? and team_id = ?", (rec.session_id, team)).fetchone() is None:
            raise ValueError(f"unknown session {rec.session_id}")
        db.execute(
            "insert into events (id, team_id, project_id, session_id, seq, kind, source_event_id,"
            " payload, occurred_at, received_at, status, attempts, last_error)"
            " values (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (rec.id, team, project_id, rec.session_id, rec.seq, rec.event_type, rec.source_event_id,
             dumps(rec.payload), rec.occurred_at_epoch, rec.received_at_epoch, rec.status, rec.attempts,
             rec.last_error))
        db.execute("update sessions set last_seq = max(last_seq, ?) where id = ?", (rec.seq, rec.session_id))
        if rec.status == "pending":
            pending_sessions.add(rec.session_id)
        return True
    if db.execute("select 1 from memories where id = ?", (rec.id,)).fetchone():
        return False
    if rec.session_id and db.execute("select 1 from sessions where id = ? and team_id = ?",
                                     (rec.session_id, team)).fetchone() is None:
        raise ValueError(f"unknown session {rec.session_id}")
    row, created = memories_repo.insert(db, team, NewMemory(
        id=rec.id, project_id=project_id, session_id=rec.session_id, kind=rec.kind, type=rec.type,
        title=rec.title, subtitle=rec.subtitle, narrative=rec.narrative, facts=rec.facts,
        concepts=rec.concepts, files_read=rec.files_read, files_modified=rec.files_modified,
        metadata=rec.metadata, created_at=rec.created_at_epoch, updated_at=rec.updated_at_epoch,
        superseded_by=rec.superseded_by, forgotten_at=rec.forgotten_at_epoch),
        rec.created_at_epoch, tuple(e for e in rec.source_event_ids if db.execute(
            "select 1 from events where id = ? and team_id = ?", (e, team)).fetchone()), embed)
    return created


def reindex(req: c.Empty, ctx: Context) -> c.ReindexOut:
    """Rebuild the derived indexes of the caller's team from the memory rows."""
    with ctx.store.write() as db:
        n = memories_repo.reindex(db, ctx.principal.team_id, ctx.embed)
        vectors = 0
        if has_vector_table(db):
            vectors = db.execute("select count(*) from memories_vec where team_id = ?",
                                 (ctx.principal.team_id,)).fetchone()[0]
        record(ctx, db, "memory.reindexed", count=n)
    return c.ReindexOut(memories=n, vectors=vectors)
