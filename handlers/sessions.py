# SPDX-License-Identifier: Apache-2.0
"""Sessions: start (idempotent per project, platform and external id), end, get."""

from __future__ import annotations

from claude_mem.storage import sessions as sessions_repo

from . import contracts as c
from . import views
from .context import Context
from .errors import Invalid
from .events import append_event
from .scoping import get_session, resolve_project


def start_session(req: c.SessionStart, ctx: Context) -> c.SessionOut:
    external = req.external_session_id or req.content_session_id
    if req.external_session_id and req.content_session_id and req.external_session_id != req.content_session_id:
        raise Invalid("$.externalSessionId", "externalSessionId and contentSessionId differ")
    with ctx.store.write() as db:
        project = resolve_project(ctx, db, name=req.project, project_id=req.project_id, create=True)
        row, created = sessions_repo.start(
            db, ctx.principal.team_id, project["id"], external_id=external,
            platform=req.platform_source, now=ctx.now(), agent_id=req.agent_id,
            agent_type=req.agent_type, metadata=req.metadata)
    return c.SessionOut(session=views.session(row), created=created)


def end_session(req: c.ById, ctx: Context) -> c.SessionOut:
    """End a session: a `session_end` event is appended, which distils into its summary."""
    with ctx.store.write() as db:
        row = get_session(ctx, db, req.id)
        event = None
        if row["status"] != "ended":
            event, _ = append_event(ctx, db, row, kind="session_end", payload={},
                                    occurred_at=ctx.now(), source_event_id=f"end:{row['id']}")
        row = sessions_repo.end(db, ctx.principal.team_id, row["id"], ctx.now())
    if event is not None:
        ctx.queue.notify(row["id"])
    return c.SessionOut(session=views.session(row), event=views.event_ref(event) if event else None)


def get_session_handler(req: c.ById, ctx: Context) -> c.SessionOut:
    with ctx.store.read() as db:
        row = get_session(ctx, db, req.id)
    return c.SessionOut(session=views.session(row))
