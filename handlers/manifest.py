# SPDX-License-Identifier: Apache-2.0
"""The manifest: every endpoint as one entry. The Litestar runtime mounts it as REST, the CLI and
the MCP adapter call the same handlers through it, and OpenAPI is generated from it."""

from __future__ import annotations

import typing
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

from . import (
    audit,
    context_pack,
    events,
    imports,
    legacy,
    memories,
    projects,
    search,
    sessions,
    system,
    teams,
    transfer,
)

Body = Literal["json", "ndjson", "text"]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Callable[..., Any]
    scope: str | None
    summary: str
    status: int = 200
    mcp_tool: str | None = None
    cli: str | None = None
    request_body: Body = "json"
    response_body: Body = "json"
    status_for: Callable[[Any], int] | None = None  # when the answer decides the status (readiness)

    @cached_property
    def request_type(self) -> type:
        return typing.get_type_hints(self.handler)["req"]

    @cached_property
    def response_type(self) -> Any:
        return typing.get_type_hints(self.handler)["return"]

    @property
    def name(self) -> str:
        return self.handler.__name__

    @property
    def path_params(self) -> list[str]:
        return [seg[1:-1].split(":")[0] for seg in self.path.split("/") if seg.startswith("{")]


R, W, F, A, ADMIN = "memories:read", "memories:write", "memories:forget", "audit:read", "admin"

MANIFEST: list[Route] = [
    Route("GET", "/healthz", system.healthz, None, "Liveness: the process answers."),
    Route("GET", "/readyz", system.readyz, None, "Readiness: the database and the queue work (503 if not).",
          status_for=lambda r: 200 if r.status == "ok" else 503),
    Route("GET", "/v1/info", system.info, R, "Version, auth mode, queue engine, schema version and counts."),
    Route("GET", "/v1/projects", projects.list_projects, R, "List the projects you can see."),
    Route("POST", "/v1/projects", projects.create_project, W, "Create a project.", status=201),
    Route("GET", "/v1/projects/{id}", projects.get_project, R, "Get one project with its counts."),
    Route("POST", "/v1/sessions/start", sessions.start_session, W,
          "Start a session (idempotent on project, platform and external id)."),
    Route("POST", "/v1/sessions/{id}/end", sessions.end_session, W,
          "End a session; its summary is distilled from its memories."),
    Route("GET", "/v1/sessions/{id}", sessions.get_session_handler, R, "Get one session."),
    Route("POST", "/v1/events", events.ingest_event, W,
          "Record one agent event; it is kept durably and distilled in the background.", status=202,
          mcp_tool="memory_record_event"),
    Route("POST", "/v1/events/batch", events.ingest_batch, W,
          "Record 1 to 500 events; each item succeeds or fails on its own.", status=202),
    Route("GET", "/v1/events/{id}", events.get_event, R,
          "Get one event with its status and the memories it produced."),
    Route("POST", "/v1/events/{id}/retry", events.retry_event, W, "Re-queue a failed event."),
    Route("GET", "/v1/queue", events.queue_overview, R,
          "The queue for your team: pending events, the oldest one's age, failed events with their errors."),
    Route("POST", "/v1/memories", memories.create_memory, W, "Add a memory by hand.", status=201,
          mcp_tool="memory_add", cli="add"),
    Route("GET", "/v1/memories", memories.list_memories, R, "The newest memories first, filtered.",
          mcp_tool="memory_list_recent"),
    Route("GET", "/v1/memories/{id}", memories.get_memory, R, "Get one memory in full."),
    Route("PATCH", "/v1/memories/{id}", memories.patch_memory, W, "Correct fields of a memory."),
    Route("POST", "/v1/memories/{id}/supersede", memories.supersede_memory, W,
          "Mark a memory superseded by another (existing or new)."),
    Route("POST", "/v1/decisions", memories.record_decision, W,
          "Record a decision with its rationale and the alternatives set aside.", status=201,
          mcp_tool="memory_record_decision"),
    Route("POST", "/v1/forget", memories.forget, F,
          "Forget memories by ids or by filter: gone from search and context, text erased.",
          mcp_tool="memory_forget", cli="forget"),
    Route("POST", "/v1/search", search.search, R, "Search memories: a scored, compact index.",
          mcp_tool="memory_search", cli="search"),
    Route("GET", "/v1/timeline", search.timeline, R, "Memories around an anchor id or a query, in time order."),
    Route("POST", "/v1/context", context_pack.build_context, R,
          "The context pack for a session start: Markdown within a token budget.",
          mcp_tool="memory_context", cli="context"),
    Route("GET", "/v1/audit", audit.list_audit, A, "The audit trail: who was served or changed what."),
    Route("POST", "/v1/export", transfer.export, R, "Export memories, sessions and events as JSONL.",
          response_body="ndjson"),
    Route("POST", "/v1/import", imports.import_data, W,
          "Import: an export, the upstream database, transcripts, mcp-memory or Markdown (re-runs add nothing).",
          request_body="ndjson"),
    Route("POST", "/v1/reindex", transfer.reindex, ADMIN, "Rebuild the search indexes from the memories."),
    Route("GET", "/v1/teams", teams.list_teams, ADMIN, "List teams (the operator sees every team)."),
    Route("POST", "/v1/teams", teams.create_team, ADMIN, "Create a team (server operator only).", status=201),
    Route("GET", "/v1/keys", teams.list_keys, ADMIN, "List API keys (never their tokens)."),
    Route("POST", "/v1/keys", teams.create_key, ADMIN,
          "Create an API key; its token is in this answer and nowhere else.", status=201),
    Route("POST", "/v1/keys/{id}/revoke", teams.revoke_key, ADMIN, "Revoke an API key: it fails at once."),
    # The upstream worker's routes, for its hooks and MCP server.
    Route("GET", "/api/health", legacy.health, R, "Upstream worker: health."),
    Route("GET", "/api/readiness", legacy.readiness, R, "Upstream worker: readiness (503 if not ready).",
          status_for=lambda r: 200 if r.status == "ok" else 503),
    Route("POST", "/api/sessions/init", legacy.sessions_init, W, "Upstream worker: a session's prompt."),
    Route("POST", "/api/sessions/observations", legacy.sessions_observations, W, "Upstream worker: a tool use."),
    Route("POST", "/api/sessions/summarize", legacy.sessions_summarize, W, "Upstream worker: a turn's end."),
    Route("GET", "/api/context/inject", legacy.context_inject, R, "Upstream worker: the context text.",
          response_body="text"),
    Route("GET", "/api/search", legacy.legacy_search, R, "Upstream worker: search (markdown, or format=json).",
          mcp_tool="search"),
    Route("GET", "/api/timeline", legacy.legacy_timeline, R, "Upstream worker: timeline around an anchor.",
          mcp_tool="timeline"),
    Route("POST", "/api/observations/batch", legacy.observations_batch, R, "Upstream worker: full memories by id.",
          mcp_tool="get_observations"),
    Route("POST", "/api/memory/save", legacy.memory_save, W, "Upstream worker: save a manual memory."),
]

BY_NAME: dict[str, Route] = {r.name: r for r in MANIFEST}
