# SPDX-License-Identifier: Apache-2.0
"""The upstream worker's `/api/*` routes, so that its plugin's hooks and MCP server can use this
server unchanged. Field names and answers follow the upstream worker; every route calls the same
handlers as `/v1`."""

from __future__ import annotations

import os
import time
from typing import Any

import msgspec

from claude_mem.storage import memories as memories_repo
from claude_mem.storage import sessions as sessions_repo
from claude_mem.storage.jsoncol import loads

from . import context_pack, memories, search, system
from . import contracts as c
from .audit import record
from .context import Context
from .errors import Invalid
from .events import ingest_event
from .redaction import strip_private

_STARTED = time.time()
SKIPPED_TOOLS = frozenset({"ListMcpResourcesTool", "SlashCommand", "Skill", "TodoWrite", "AskUserQuestion"})


class LegacyIn(msgspec.Struct, kw_only=True):
    """Upstream bodies mix camelCase and snake_case names: they are kept as they are."""


class SessionInit(LegacyIn, kw_only=True):
    contentSessionId: str  # noqa: N815 - the upstream wire name
    project: str | None = None
    prompt: str = ""
    platformSource: str = "claude-code"  # noqa: N815
    customTitle: str | None = None  # noqa: N815


class Observation(LegacyIn, kw_only=True):
    contentSessionId: str  # noqa: N815
    tool_name: str
    tool_input: Any = None
    tool_response: Any = None
    cwd: str | None = None
    platformSource: str = "claude-code"  # noqa: N815
    agentId: str | None = None  # noqa: N815
    agentType: str | None = None  # noqa: N815
    tool_use_id: str | None = None
    toolUseId: str | None = None  # noqa: N815
    project: str | None = None


class Summarize(LegacyIn, kw_only=True):
    contentSessionId: str  # noqa: N815
    last_assistant_message: str = ""
    platformSource: str = "claude-code"  # noqa: N815
    agentId: str | None = None  # noqa: N815


class Inject(LegacyIn, kw_only=True):
    projects: list[str] | None = None
    project: str | None = None
    platformSource: str | None = None  # noqa: N815


class LegacySearch(LegacyIn, kw_only=True):
    query: str = ""
    limit: int = 20
    project: str | None = None
    type: str | None = None
    obs_type: list[str] | None = None
    dateStart: int | None = None  # noqa: N815
    dateEnd: int | None = None  # noqa: N815
    format: str | None = None


class LegacyTimeline(LegacyIn, kw_only=True):
    anchor: str | None = None
    query: str | None = None
    depth_before: int = 10
    depth_after: int = 10
    project: str | None = None


class Batch(LegacyIn, kw_only=True):
    ids: list[str | int]
    orderBy: str | None = None  # noqa: N815
    limit: int | None = None
    project: str | None = None


class Save(LegacyIn, kw_only=True):
    text: str
    title: str | None = None
    project: str | None = None
    metadata: dict[str, Any] = {}


class LegacyHealth(msgspec.Struct, kw_only=True):
    status: str
    version: str
    uptime: float
    pid: int
    initialized: bool
    mcpReady: bool  # noqa: N815
    queue: dict[str, Any]


class InitOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    skipped: bool
    sessionDbId: str | None = None  # noqa: N815
    promptNumber: int | None = None  # noqa: N815
    reason: str | None = None
    contextInjected: bool | None = None  # noqa: N815
    status: str | None = None


class StatusOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    status: str
    reason: str | None = None


class Text(msgspec.Struct, kw_only=True):
    text: str


class ContentOut(msgspec.Struct, kw_only=True):
    content: list[dict[str, str]]


class ObservationRow(msgspec.Struct, kw_only=True):
    id: str
    memory_session_id: str | None
    project: str
    type: str | None
    title: str
    subtitle: str
    narrative: str
    facts: list[str]
    concepts: list[str]
    files_read: list[str]
    files_modified: list[str]
    created_at: str
    created_at_epoch: int


class SaveOut(msgspec.Struct, kw_only=True):
    success: bool
    id: str
    title: str
    project: str
    message: str


def _project_name(ctx: Context, db: Any, project_id: str) -> str:
    row = db.execute("select name from projects where team_id = ? and id = ?",
                     (ctx.principal.team_id, project_id)).fetchone()
    return row[0] if row else ""


def health(req: c.Empty, ctx: Context) -> LegacyHealth:
    return LegacyHealth(status="ok", version=system.version(), uptime=round(time.time() - _STARTED, 1),
                        pid=os.getpid(), initialized=True, mcpReady=False, queue=ctx.queue.status())


def readiness(req: c.Empty, ctx: Context) -> c.Readiness:
    return system.readyz(req, ctx)


def sessions_init(req: SessionInit, ctx: Context) -> InitOut:
    prompt = strip_private(req.prompt or "")
    if prompt.strip().startswith("<task-notification>") and prompt.strip().endswith("</task-notification>"):
        return InitOut(skipped=True, reason="internal_protocol")
    project = req.project or "default"
    out = ingest_event(c.EventIn(project=project, content_session_id=req.contentSessionId, event_type="prompt",
                                 platform_source=req.platformSource,
                                 payload={"prompt": prompt if req.prompt else "[media prompt]"}), ctx)
    with ctx.store.read() as db:
        number = db.execute("select count(*) from events where session_id = ? and kind = 'prompt'",
                            (out.event.session_id,)).fetchone()[0]
    if req.prompt and not prompt.strip():
        return InitOut(sessionDbId=out.event.session_id, promptNumber=number, skipped=True, reason="private")
    return InitOut(sessionDbId=out.event.session_id, promptNumber=number, skipped=False, contextInjected=False,
                   status="initialized")


def _session_project(ctx: Context, platform: str, external: str, cwd: str | None, given: str | None) -> str:
    if given:
        return given
    with ctx.store.read() as db:
        row = sessions_repo.find_by_external(db, ctx.principal.team_id, platform, external)
        if row is not None:
            return _project_name(ctx, db, row["project_id"])
    return os.path.basename((cwd or "").rstrip("/")) or "default"


def sessions_observations(req: Observation, ctx: Context) -> StatusOut:
    if req.tool_name in SKIPPED_TOOLS:
        return StatusOut(status="skipped", reason="tool_excluded")
    project = _session_project(ctx, req.platformSource, req.contentSessionId, req.cwd, req.project)
    payload = {"tool_name": req.tool_name, "tool_input": req.tool_input, "tool_response": req.tool_response,
               "cwd": req.cwd, "agent_id": req.agentId, "agent_type": req.agentType}
    ingest_event(c.EventIn(project=project, content_session_id=req.contentSessionId, event_type="tool_use",
                           platform_source=req.platformSource, source_event_id=req.tool_use_id or req.toolUseId,
                           payload={k: v for k, v in payload.items() if v is not None}), ctx)
    return StatusOut(status="queued")


def sessions_summarize(req: Summarize, ctx: Context) -> StatusOut:
    if req.agentId:
        return StatusOut(status="skipped", reason="subagent_context")
    project = _session_project(ctx, req.platformSource, req.contentSessionId, None, None)
    ingest_event(c.EventIn(project=project, content_session_id=req.contentSessionId,
                           event_type="assistant_message", platform_source=req.platformSource,
                           payload={"last_assistant_message": req.last_assistant_message}), ctx)
    return StatusOut(status="queued")


def context_inject(req: Inject, ctx: Context) -> Text:
    names = [p for p in (req.projects or []) if p] or ([req.project] if req.project else [])
    if not names:
        raise Invalid("$.projects", "give projects (comma-separated) or project")
    out = context_pack.build_context(c.ContextIn(project=names[-1]), ctx)
    return Text(text=out.context)


def _markdown(hits: list[Any]) -> str:
    if not hits:
        return "No results found."
    lines = ["| ID | Time | T | Title |", "|---|---|---|---|"]
    for h in hits:
        when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(h.created_at_epoch / 1000))
        lines.append(f"| {h.id} | {when} | {h.type or h.kind} | {h.title.replace('|', '/')} |")
    return "\n".join(lines)


def legacy_search(req: LegacySearch, ctx: Context) -> Any:
    types = req.obs_type or ([req.type] if req.type and req.type not in ("observations", "sessions", "prompts")
                             else None)
    kinds = ["summary"] if req.type == "sessions" else None
    result = search.search(c.SearchIn(query=req.query, project=req.project, limit=max(1, min(req.limit, 100)),
                                      types=types, kinds=kinds, since_epoch=req.dateStart,
                                      until_epoch=req.dateEnd), ctx)
    if req.format == "json":
        return {"observations": [msgspec.to_builtins(h) for h in result.results], "sessions": [], "prompts": [],
                "totalResults": len(result.results), "query": req.query}
    return ContentOut(content=[{"type": "text", "text": _markdown(result.results)}])


def legacy_timeline(req: LegacyTimeline, ctx: Context) -> ContentOut:
    out = search.timeline(c.TimelineIn(anchor=req.anchor, query=req.query, project=req.project,
                                       before=max(0, min(req.depth_before, 100)),
                                       after=max(0, min(req.depth_after, 100))), ctx)
    lines = [f"{'→' if m.id == out.anchor else ' '} {m.id} "
             f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime(m.created_at_epoch / 1000))} "
             f"{m.type or m.kind} {m.title}" for m in out.memories]
    return ContentOut(content=[{"type": "text", "text": "\n".join(lines) or "No results found."}])


def observations_batch(req: Batch, ctx: Context) -> list[ObservationRow]:
    ids = [str(i) for i in req.ids][: req.limit or 100]
    out = []
    with ctx.store.write() as db:
        rows = memories_repo.get_many(db, ctx.principal.team_id, ids)
        for r in rows:
            pinned = ctx.principal.project_id
            if r["forgotten_at"] is not None or (pinned and r["project_id"] != pinned):
                continue
            name = _project_name(ctx, db, r["project_id"])
            if req.project and name != req.project:
                continue
            out.append(ObservationRow(
                id=r["id"], memory_session_id=r["session_id"], project=name, type=r["type"], title=r["title"],
                subtitle=r["subtitle"], narrative=r["narrative"], facts=loads(r["facts"], []),
                concepts=loads(r["concepts"], []), files_read=loads(r["files_read"], []),
                files_modified=loads(r["files_modified"], []),
                created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(r["created_at"] / 1000)),
                created_at_epoch=r["created_at"]))
        record(ctx, db, "memory.served", count=len(out), detail={"via": "observations_batch"})
    if req.orderBy == "date_asc":
        out.sort(key=lambda o: o.created_at_epoch)
    elif req.orderBy == "date_desc":
        out.sort(key=lambda o: -o.created_at_epoch)
    return out


def memory_save(req: Save, ctx: Context) -> SaveOut:
    project = req.project or "default"
    m = memories.create_memory(c.MemoryCreate(project=project, narrative=req.text, title=req.title or "",
                                              kind="note", type="discovery", subtitle="Manual memory",
                                              metadata=req.metadata), ctx).memory
    return SaveOut(success=True, id=m.id, title=m.title, project=project, message=f"Memory saved as {m.id}")


