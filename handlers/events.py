# SPDX-License-Identifier: Apache-2.0
"""Ingest: validate, strip private tags, redact, truncate, resolve team/project/session, append
the event at the session's next seq in one transaction, then signal the queue. Answer 202."""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from claude_mem.storage import events as events_repo
from claude_mem.storage import sessions as sessions_repo
from claude_mem.storage.jsoncol import dumps

from . import contracts as c
from . import views
from .context import Context
from .errors import HandlerError, Invalid, NotFound
from .redaction import clean
from .scoping import get_session, resolve_project
from .validation import validation_issue


def _source_id(req: c.EventIn) -> str | None:
    if req.source_event_id:
        return req.source_event_id
    tool_use_id = req.payload.get("tool_use_id") or req.payload.get("toolUseId")
    return str(tool_use_id) if tool_use_id else None


def idempotency_key(session_row: Any, kind: str, source_id: str | None, occurred: int | None,
                    payload: Any) -> str | None:
    """From the agent's own id (e.g. tool_use_id) when there is one; else from the event's
    content when the client gave its time, so a retried POST is recognised; else none."""
    if source_id:
        basis = "\0".join(["src", session_row["project_id"], session_row["platform"], source_id])
    elif occurred is not None:
        basis = "\0".join(["evt", session_row["id"], kind, str(occurred), dumps(payload)])
    else:
        return None
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:40]


def append_event(ctx: Context, db: Any, session_row: Any, *, kind: str, payload: Any,
                 occurred_at: int | None, source_event_id: str | None) -> tuple[Any, bool]:
    clean_payload = clean(payload, ctx.settings.max_field_chars)
    key = idempotency_key(session_row, kind, source_event_id, occurred_at, clean_payload)
    return events_repo.insert(
        db, ctx.principal.team_id, project_id=session_row["project_id"],
        session_id=session_row["id"], kind=kind, payload=clean_payload,
        occurred_at=occurred_at if occurred_at is not None else ctx.now(), received_at=ctx.now(),
        idempotency_key=key, source_event_id=source_event_id)


def _ingest(ctx: Context, db: Any, req: c.EventIn) -> tuple[Any, bool]:
    if req.session_id:
        session = get_session(ctx, db, req.session_id)
        if req.project_id and req.project_id != session["project_id"]:
            raise Invalid("$.projectId", "the session belongs to another project")
    elif req.content_session_id:
        project = resolve_project(ctx, db, name=req.project, project_id=req.project_id, create=True)
        session, _ = sessions_repo.start(
            db, ctx.principal.team_id, project["id"], external_id=req.content_session_id,
            platform=req.platform_source, now=ctx.now(),
            agent_id=_str_or_none(req.payload.get("agent_id") or req.payload.get("agentId")),
            agent_type=_str_or_none(req.payload.get("agent_type") or req.payload.get("agentType")))
    else:
        raise Invalid("$.contentSessionId", "give contentSessionId (the agent's session id) or sessionId")
    payload = dict(req.payload)
    if req.metadata:
        payload["_metadata"] = req.metadata
    row, created = append_event(ctx, db, session, kind=req.event_type, payload=payload,
                                occurred_at=req.occurred_at_epoch, source_event_id=_source_id(req))
    if created and req.event_type == "session_end":
        sessions_repo.end(db, ctx.principal.team_id, session["id"], ctx.now())
    return row, created


def _str_or_none(value: Any) -> str | None:
    return str(value)[:128] if value else None


def ingest_event(req: c.EventIn, ctx: Context) -> c.EventAccepted:
    with ctx.store.write() as db:
        row, created = _ingest(ctx, db, req)
    queued = ctx.queue.notify(row["session_id"]) if row["status"] == "pending" else True
    return c.EventAccepted(event=views.event_ref(row), duplicate=not created, queued=queued)


def ingest_batch(req: c.EventBatchIn, ctx: Context) -> c.BatchOut:
    """Each item is validated and written on its own (a savepoint each): one bad item does not
    sink the others, and a failed item leaves nothing half-written."""
    results: list[c.BatchItem] = []
    sessions: set[str] = set()
    with ctx.store.write() as db:
        for i, item in enumerate(req.events):
            try:
                try:
                    event_in = msgspec.convert(item, c.EventIn)
                except msgspec.ValidationError as exc:
                    path, message = validation_issue(str(exc))
                    raise Invalid(path.replace("$", f"$.events[{i}]", 1), message) from None
                db.execute("savepoint batch_item")
                try:
                    row, created = _ingest(ctx, db, event_in)
                except BaseException:
                    db.execute("rollback to batch_item")
                    db.execute("release batch_item")
                    raise
                db.execute("release batch_item")
            except HandlerError as exc:
                results.append(c.BatchItem(error=c.ErrorBody(
                    error=exc.kind, message=exc.message,
                    issues=[{"path": iss.path, "message": iss.message} for iss in exc.issues],
                    request_id=ctx.request_id)))
                continue
            if row["status"] == "pending":
                sessions.add(row["session_id"])
            results.append(c.BatchItem(event=views.event_ref(row), duplicate=not created))
    for sid in sorted(sessions):
        ctx.queue.notify(sid)
    accepted = sum(1 for r in results if r.event is not None)
    return c.BatchOut(results=results, accepted=accepted, rejected=len(results) - accepted)


def get_event(req: c.ById, ctx: Context) -> c.EventOut:
    with ctx.store.read() as db:
        row = events_repo.get(db, ctx.principal.team_id, req.id)
        if row is None:
            raise NotFound(f"event {req.id} not found")
        get_session(ctx, db, row["session_id"])  # project-pinned keys see their project only
        mids = events_repo.memory_ids(db, row["id"])
    return c.EventOut(event=views.event(row, mids))


def retry_event(req: c.ById, ctx: Context) -> c.EventOut:
    """Re-queue a failed (or skipped) event; a pending one is left as it is."""
    with ctx.store.write() as db:
        row = events_repo.get(db, ctx.principal.team_id, req.id)
        if row is None:
            raise NotFound(f"event {req.id} not found")
        get_session(ctx, db, row["session_id"])
        if row["status"] in ("failed", "skipped"):
            events_repo.requeue(db, ctx.principal.team_id, row["id"])
        row = events_repo.get(db, ctx.principal.team_id, req.id)
        mids = events_repo.memory_ids(db, row["id"])
    if row["status"] == "pending":
        ctx.queue.notify(row["session_id"])
    return c.EventOut(event=views.event(row, mids))


def queue_overview(req: c.QueueIn, ctx: Context) -> c.QueueOverview:
    """What waits in the queue for this team, since when, and the events that failed."""
    pinned = [ctx.principal.project_id] if ctx.principal.project_id else None
    with ctx.store.read() as db:
        depth = events_repo.team_depth(db, ctx.principal.team_id, ctx.now(), pinned)
        rows = events_repo.failed(db, ctx.principal.team_id, req.failed_limit, pinned)
        failed = [views.event(r, events_repo.memory_ids(db, r["id"])) for r in rows]
    status = ctx.queue.status() if ctx.queue is not None else {"healthy": False, "detail": "no queue"}
    return c.QueueOverview(engine=getattr(ctx.queue, "name", "none"), healthy=bool(status.get("healthy")),
                           detail=str(status.get("detail", "")), failed=failed, **depth)
