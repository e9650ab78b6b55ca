# SPDX-License-Identifier: Apache-2.0
"""Memories written by hand or by the distiller: create, get, patch, supersede, forget."""

from __future__ import annotations

from typing import Any

import msgspec

from claude_mem.storage import memories as memories_repo
from claude_mem.storage.memories import Filters, NewMemory

from . import contracts as c
from . import views
from .audit import record
from .context import Context
from .errors import Invalid, NotFound
from .redaction import clean, clean_text
from .scoping import get_session, project_allowed, resolve_project, visible_project_ids


def _clean_list(values: list[str], limit: int) -> list[str]:
    return [clean_text(v, limit) for v in values]


def _title_from(text: str, limit: int = 80) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def get_visible(ctx: Context, db: Any, memory_id: str) -> Any:
    row = memories_repo.get(db, ctx.principal.team_id, memory_id)
    if row is None or not project_allowed(ctx, row["project_id"]):
        raise NotFound(f"memory {memory_id} not found")
    return row


def create_memory(req: c.MemoryCreate, ctx: Context) -> c.MemoryOut:
    limit = ctx.settings.max_field_chars
    with ctx.store.write() as db:
        project = resolve_project(ctx, db, name=req.project, project_id=req.project_id, create=True)
        if req.session_id:
            session = get_session(ctx, db, req.session_id)
            if session["project_id"] != project["id"]:
                raise Invalid("$.sessionId", "the session belongs to another project")
        narrative = clean_text(req.narrative, limit)
        if not narrative.strip():
            raise Invalid("$.narrative", "nothing is left once private tags are stripped")
        title = clean_text(req.title, 2_000).strip() or _title_from(narrative)
        mtype = req.type or ("decision" if req.kind == "decision" else None)
        row, _ = memories_repo.insert(db, ctx.principal.team_id, NewMemory(
            project_id=project["id"], session_id=req.session_id, kind=req.kind, type=mtype,
            title=title, subtitle=clean_text(req.subtitle, 2_000),
            narrative=narrative, facts=_clean_list(req.facts, limit),
            concepts=_clean_list(req.concepts, 200), files_read=req.files_read,
            files_modified=req.files_modified, metadata=clean(req.metadata, limit)), ctx.now(), embed=ctx.embed)
        record(ctx, db, "memory.written", target=row["id"], count=1)
    return c.MemoryOut(memory=views.memory(row))


def get_memory(req: c.ById, ctx: Context) -> c.MemoryOut:
    with ctx.store.write() as db:
        row = get_visible(ctx, db, req.id)
        sources = memories_repo.sources(db, row["id"])
        replaced = memories_repo.superseded(db, ctx.principal.team_id, row["id"])
        record(ctx, db, "memory.served", target=row["id"], count=1, detail={"via": "get"})
    return c.MemoryOut(memory=views.memory(row, sources, replaced))


def patch_memory(req: c.MemoryPatch, ctx: Context) -> c.MemoryOut:
    limit = ctx.settings.max_field_chars
    changes: dict[str, Any] = {}
    for name in ("title", "subtitle", "narrative", "type", "facts", "concepts", "files_read",
                 "files_modified", "metadata"):
        value = getattr(req, name)
        if value is msgspec.UNSET:
            continue
        if isinstance(value, str):
            value = clean_text(value, limit)
        elif name in ("facts", "concepts"):
            value = _clean_list(value, limit)
        elif name == "metadata":
            value = clean(value, limit)
        changes[name] = value
    with ctx.store.write() as db:
        row = get_visible(ctx, db, req.id)
        if row["forgotten_at"] is not None:
            raise NotFound(f"memory {req.id} was forgotten")
        if changes:
            row = memories_repo.update(db, ctx.principal.team_id, req.id, changes, ctx.now(), ctx.embed)
            record(ctx, db, "memory.written", target=row["id"], count=1, detail={"via": "patch"})
    return c.MemoryOut(memory=views.memory(row))


def supersede_memory(req: c.Supersede, ctx: Context) -> c.SupersedeOut:
    team = ctx.principal.team_id
    with ctx.store.write() as db:
        old = get_visible(ctx, db, req.id)
        if old["forgotten_at"] is not None:
            raise NotFound(f"memory {req.id} was forgotten")
        if req.superseded_by:
            if req.superseded_by == req.id:
                raise Invalid("$.supersededBy", "a memory cannot supersede itself")
            new = get_visible(ctx, db, req.superseded_by)
        elif req.narrative:
            new, _ = memories_repo.insert(db, team, NewMemory(
                project_id=old["project_id"], session_id=None, kind=req.kind or old["kind"],
                type=req.type or old["type"], title=clean_text(req.title or old["title"], 2_000),
                narrative=clean_text(req.narrative, ctx.settings.max_field_chars),
                facts=_clean_list(req.facts or [], ctx.settings.max_field_chars),
                metadata={"supersedes": old["id"]}), ctx.now(), embed=ctx.embed)
        else:
            raise Invalid("$.supersededBy", "give supersededBy (a memory id) or the new narrative")
        memories_repo.supersede(db, team, old["id"], new["id"], ctx.now())
        record(ctx, db, "memory.superseded", target=old["id"], count=1, detail={"by": new["id"]})
        old = memories_repo.get(db, team, old["id"])
    return c.SupersedeOut(memory=views.memory(old), superseded_by=views.memory(new))


def forget(req: c.ForgetIn, ctx: Context) -> c.ForgetOut:
    """Tombstone memories by ids or by a filter; they are gone from search and context, and
    their text (and the payloads of the events they came from) is erased."""
    team = ctx.principal.team_id
    has_filter = any(v is not None for v in (req.project, req.project_id, req.session_id, req.kinds,
                                               req.types, req.files, req.since_epoch, req.until_epoch))
    if req.ids is None and not has_filter:
        raise Invalid("$.ids", "give ids, or a filter (project, sessionId, kinds, types, files, time)")
    with ctx.store.write() as db:
        if req.ids is not None:
            ids = []
            for mid in req.ids:
                row = memories_repo.get(db, team, mid)
                if row is not None and project_allowed(ctx, row["project_id"]):
                    ids.append(mid)
        else:
            if req.session_id:
                get_session(ctx, db, req.session_id)
            ids = memories_repo.ids_matching(db, team, Filters(
                project_ids=visible_project_ids(ctx, db, name=req.project, project_id=req.project_id),
                kinds=req.kinds, types=req.types, files=req.files, session_id=req.session_id,
                since=req.since_epoch, until=req.until_epoch, include_superseded=True))
        done = memories_repo.forget(db, team, ids, ctx.now())
        record(ctx, db, "memory.forgotten", count=len(done),
               target=done[0] if len(done) == 1 else None,
               detail={"ids": done[:1000]})
    return c.ForgetOut(forgotten=done, count=len(done))


def list_memories(req: c.MemoryListIn, ctx: Context) -> c.MemoryList:
    """The newest memories first: what an agent asks for when it has no query yet."""
    with ctx.store.read() as db:
        if req.session_id:
            get_session(ctx, db, req.session_id)
        f = Filters(project_ids=visible_project_ids(ctx, db, name=req.project, project_id=req.project_id),
                    kinds=req.kinds, types=req.types, session_id=req.session_id,
                    since=req.since_epoch, until=req.until_epoch)
        rows = memories_repo.recent(db, ctx.principal.team_id, f, req.limit)
    if rows:  # an empty poll (the viewer's stream asks every second) serves nothing worth a row
        with ctx.store.write() as db:
            record(ctx, db, "memory.served", count=len(rows), detail={"via": "list"})
    return c.MemoryList(memories=[views.index_item(r) for r in rows])


def record_decision(req: c.DecisionIn, ctx: Context) -> c.MemoryOut:
    """A decision is a memory of kind `decision`: the choice as narrative, the why and the
    alternatives as facts, so search and the context pack treat it like any other memory."""
    facts = ([f"Rationale: {req.rationale}"] if req.rationale.strip() else []) + \
        [f"Rejected alternative: {a}" for a in req.alternatives if a.strip()]
    return create_memory(c.MemoryCreate(
        project=req.project, project_id=req.project_id, session_id=req.session_id, kind="decision",
        type="decision", title=req.title, narrative=req.decision, facts=facts, concepts=req.concepts,
        files_read=req.files, metadata=req.metadata), ctx)
