# SPDX-License-Identifier: Apache-2.0
"""The wire contract: one msgspec Struct per handler input and output.

An input holds everything a call needs (path, query and body fields together), so that HTTP, CLI
flags, MCP tool arguments and tests all build the same Struct. JSON uses camelCase names and epoch
milliseconds (`createdAtEpoch`); Python stays snake_case.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

EventType = Literal["prompt", "tool_use", "assistant_message", "session_start", "session_end", "note"]
MemoryKind = Literal["observation", "decision", "summary", "note"]
MemoryType = Literal["bugfix", "feature", "refactor", "change", "discovery", "decision",
                     "security_alert", "security_note"]
SearchMode = Literal["hybrid", "fts", "vector"]

Id = Annotated[str, Meta(min_length=1, max_length=128)]
Name = Annotated[str, Meta(min_length=1, max_length=200, pattern=r"\S")]
Epoch = Annotated[int, Meta(ge=0, le=32503680000000)]
ShortText = Annotated[str, Meta(max_length=2_000)]
Text = Annotated[str, Meta(max_length=200_000)]
Items = Annotated[list[Annotated[str, Meta(max_length=20_000)]], Meta(max_length=500)]
Paths = Annotated[list[Annotated[str, Meta(min_length=1, max_length=4096)]], Meta(max_length=500)]
# Paths to filter by: each becomes a condition of one query, so fewer of them.
FilterPaths = Annotated[list[Annotated[str, Meta(min_length=1, max_length=4096)]], Meta(max_length=100)]
Meta_ = dict[str, Any]


class In(Struct, rename="camel", kw_only=True):
    """Base of inputs: unknown fields are ignored, so newer clients keep working."""


class Out(Struct, rename="camel", kw_only=True):
    """Base of outputs."""


class Empty(In, kw_only=True):
    pass


# -- health and info ---------------------------------------------------------------------------

class Health(Out, kw_only=True):
    status: str


class Check(Out, kw_only=True):
    ok: bool
    detail: str = ""


class Readiness(Out, kw_only=True):
    status: str
    checks: dict[str, Check]
    queue: dict[str, Any] = {}


class Caller(Out, kw_only=True):
    """Who is asking: the key's team, its project pin, its scopes."""

    team_id: str
    project_id: str | None
    scopes: list[str]
    key_id: str | None


class Info(Out, kw_only=True):
    name: str
    version: str
    auth_mode: str
    queue_engine: str
    schema_version: int
    sqlite: dict[str, Any]
    counts: dict[str, int]
    queue: dict[str, Any]
    caller: Caller | None = None


# -- projects ------------------------------------------------------------------------------------

class ProjectCreate(In, kw_only=True):
    name: Name
    metadata: Meta_ = {}
    team: Name | None = None  # another team's name: server operators only


class ProjectListIn(In, kw_only=True):
    team: Name | None = None


class ById(In, kw_only=True):
    id: Id


class Project(Out, kw_only=True):
    id: str
    name: str
    created_at_epoch: int
    metadata: Meta_
    memory_count: int | None = None
    session_count: int | None = None


class ProjectOut(Out, kw_only=True):
    project: Project


class ProjectList(Out, kw_only=True):
    projects: list[Project]


# -- sessions ------------------------------------------------------------------------------------

class ProjectRef(In, kw_only=True):
    """Either a project name (created on first use in the caller's team) or a project id."""

    project: Name | None = None
    project_id: Id | None = None


class SessionStart(ProjectRef, kw_only=True):
    content_session_id: Id | None = None
    external_session_id: Id | None = None
    platform_source: Annotated[str, Meta(min_length=1, max_length=64)] = "claude-code"
    agent_id: Annotated[str, Meta(max_length=128)] | None = None
    agent_type: Annotated[str, Meta(max_length=128)] | None = None
    metadata: Meta_ = {}


class Session(Out, kw_only=True):
    id: str
    project_id: str
    external_session_id: str
    content_session_id: str
    platform_source: str
    agent_id: str | None
    agent_type: str | None
    status: str
    started_at_epoch: int
    ended_at_epoch: int | None
    metadata: Meta_


class SessionOut(Out, kw_only=True):
    session: Session
    created: bool = False
    event: EventRef | None = None


# -- events --------------------------------------------------------------------------------------

class EventIn(ProjectRef, kw_only=True):
    event_type: EventType
    content_session_id: Id | None = None
    session_id: Id | None = None
    platform_source: Annotated[str, Meta(min_length=1, max_length=64)] = "claude-code"
    occurred_at_epoch: Epoch | None = None
    source_event_id: Annotated[str, Meta(min_length=1, max_length=256)] | None = None
    payload: dict[str, Any] = {}
    metadata: Meta_ = {}


class EventBatchIn(In, kw_only=True):
    events: Annotated[list[Any], Meta(min_length=1, max_length=500)]


class EventRef(Out, kw_only=True):
    id: str
    session_id: str
    seq: int
    status: str


class EventAccepted(Out, kw_only=True):
    event: EventRef
    duplicate: bool
    queued: bool


class ErrorBody(Out, kw_only=True):
    error: str
    message: str
    issues: list[dict[str, str]] = []
    request_id: str | None = None


class BatchItem(Out, kw_only=True):
    event: EventRef | None = None
    duplicate: bool | None = None
    error: ErrorBody | None = None


class BatchOut(Out, kw_only=True):
    results: list[BatchItem]
    accepted: int
    rejected: int


class Event(Out, kw_only=True):
    id: str
    project_id: str
    session_id: str
    seq: int
    event_type: str
    status: str
    attempts: int
    last_error: str | None
    source_event_id: str | None
    occurred_at_epoch: int
    received_at_epoch: int
    payload: Any
    memory_ids: list[str]


class EventOut(Out, kw_only=True):
    event: Event


class QueueIn(In, kw_only=True):
    failed_limit: Annotated[int, Meta(ge=0, le=200)] = 50


class QueueOverview(Out, kw_only=True):
    """The queue as this caller's team sees it: what waits, since when, and what failed."""

    engine: str
    healthy: bool
    detail: str
    pending_events: int
    sessions_waiting: int
    oldest_pending_age_ms: int | None
    failed_events: int
    failed: list[Event]  # the newest failed events, each with its last error


# -- memories ------------------------------------------------------------------------------------

class MemoryCreate(ProjectRef, kw_only=True):
    narrative: Annotated[str, Meta(min_length=1, max_length=200_000)]
    title: ShortText = ""
    subtitle: ShortText = ""
    kind: MemoryKind = "note"
    type: MemoryType | None = None
    session_id: Id | None = None
    facts: Items = []
    concepts: Items = []
    files_read: Paths = []
    files_modified: Paths = []
    metadata: Meta_ = {}


class MemoryPatch(In, kw_only=True):
    id: Id
    title: ShortText | UnsetType = UNSET
    subtitle: ShortText | UnsetType = UNSET
    narrative: Annotated[str, Meta(min_length=1, max_length=200_000)] | UnsetType = UNSET
    type: MemoryType | None | UnsetType = UNSET
    facts: Items | UnsetType = UNSET
    concepts: Items | UnsetType = UNSET
    files_read: Paths | UnsetType = UNSET
    files_modified: Paths | UnsetType = UNSET
    metadata: Meta_ | UnsetType = UNSET


class Supersede(In, kw_only=True):
    """Mark memory `id` superseded: by an existing memory (`supersededBy`) or by a new one."""

    id: Id
    superseded_by: Id | None = None
    narrative: Annotated[str, Meta(min_length=1, max_length=200_000)] | None = None
    title: ShortText | None = None
    kind: MemoryKind | None = None
    type: MemoryType | None = None
    facts: Items | None = None


class Memory(Out, kw_only=True):
    id: str
    project_id: str
    session_id: str | None
    kind: str
    type: str | None
    title: str
    subtitle: str
    narrative: str
    facts: list[str]
    concepts: list[str]
    files_read: list[str]
    files_modified: list[str]
    metadata: Meta_
    created_at_epoch: int
    updated_at_epoch: int
    superseded_by: str | None
    forgotten_at_epoch: int | None = None
    source_event_ids: list[str] = []
    supersedes: list[str] = []  # the memories this one replaced (their supersededBy is this id)


class MemoryOut(Out, kw_only=True):
    memory: Memory


class MemoryListIn(In, kw_only=True):
    """The newest memories first, filtered; page back with `untilEpoch`."""

    project: Name | None = None
    project_id: Id | None = None
    kinds: list[MemoryKind] | None = None
    types: list[MemoryType] | None = None
    session_id: Id | None = None
    since_epoch: Epoch | None = None
    until_epoch: Epoch | None = None
    limit: Annotated[int, Meta(ge=1, le=100)] = 20


class MemoryList(Out, kw_only=True):
    memories: list[IndexItem]


class DecisionIn(ProjectRef, kw_only=True):
    """A decision taken: what was chosen, why, and what was set aside."""

    title: Annotated[str, Meta(min_length=1, max_length=2_000)]
    decision: Annotated[str, Meta(min_length=1, max_length=200_000)]
    rationale: Annotated[str, Meta(max_length=200_000)] = ""
    alternatives: Items = []
    files: Paths = []
    concepts: Items = []
    session_id: Id | None = None
    metadata: Meta_ = {}


class SupersedeOut(Out, kw_only=True):
    memory: Memory
    superseded_by: Memory


class ForgetIn(In, kw_only=True):
    """Forget by `ids`, or by a filter (at least one of project, session, kinds, types, files, time)."""

    ids: Annotated[list[Id], Meta(max_length=1000)] | None = None
    project: Name | None = None
    project_id: Id | None = None
    session_id: Id | None = None
    kinds: list[MemoryKind] | None = None
    types: list[MemoryType] | None = None
    files: FilterPaths | None = None
    since_epoch: Epoch | None = None
    until_epoch: Epoch | None = None


class ForgetOut(Out, kw_only=True):
    forgotten: list[str]
    count: int


# -- search, timeline, context ---------------------------------------------------------------

class SearchIn(In, kw_only=True):
    query: Annotated[str, Meta(max_length=2_000)] = ""
    project: Name | None = None
    project_id: Id | None = None
    project_ids: Annotated[list[Id], Meta(max_length=100)] | None = None
    kinds: list[MemoryKind] | None = None
    types: list[MemoryType] | None = None
    files: FilterPaths | None = None
    session_id: Id | None = None
    since_epoch: Epoch | None = None
    until_epoch: Epoch | None = None
    limit: Annotated[int, Meta(ge=1, le=100)] = 20
    mode: SearchMode = "hybrid"
    include_superseded: bool = False


class SearchHit(Out, kw_only=True):
    id: str
    kind: str
    type: str | None
    title: str
    snippet: str
    score: float
    project_id: str
    session_id: str | None
    created_at_epoch: int


class SearchResult(Out, kw_only=True):
    results: list[SearchHit]
    mode: str
    query: str


class TimelineIn(In, kw_only=True):
    anchor: Id | None = None
    query: Annotated[str, Meta(max_length=2_000)] | None = None
    project: Name | None = None
    project_id: Id | None = None
    before: Annotated[int, Meta(ge=0, le=100)] = 10
    after: Annotated[int, Meta(ge=0, le=100)] = 10


class IndexItem(Out, kw_only=True):
    id: str
    kind: str
    type: str | None
    title: str
    project_id: str
    session_id: str | None
    created_at_epoch: int


class TimelineOut(Out, kw_only=True):
    anchor: str | None
    memories: list[IndexItem]


class ContextIn(ProjectRef, kw_only=True):
    query: Annotated[str, Meta(max_length=2_000)] | None = None
    files: FilterPaths | None = None
    token_budget: Annotated[int, Meta(ge=50, le=100_000)] | None = None


class ContextOut(Out, kw_only=True):
    context: str
    tokens: int
    memory_ids: list[str]


# -- teams and keys -------------------------------------------------------------------------

Scope = Literal["memories:read", "memories:write", "memories:forget", "audit:read", "admin"]


class TeamCreate(In, kw_only=True):
    name: Annotated[str, Meta(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]


class Team(Out, kw_only=True):
    id: str
    name: str
    created_at_epoch: int
    project_count: int | None = None
    key_count: int | None = None


class TeamOut(Out, kw_only=True):
    team: Team


class TeamList(Out, kw_only=True):
    teams: list[Team]


class KeyCreate(In, kw_only=True):
    scopes: Annotated[list[Scope], Meta(min_length=1, max_length=5)]
    team: Name | None = None
    project: Name | None = None
    project_id: Id | None = None
    name: Annotated[str, Meta(max_length=200)] | None = None
    expires_days: Annotated[float, Meta(gt=0, le=3650)] | None = None
    expires_at_epoch: Epoch | None = None


class KeyListIn(In, kw_only=True):
    team: Name | None = None


class ApiKey(Out, kw_only=True):
    id: str
    name: str | None
    team_id: str
    team: str
    project_id: str | None
    scopes: list[str]
    created_at_epoch: int
    expires_at_epoch: int | None
    revoked_at_epoch: int | None
    last_used_at_epoch: int | None


class KeyCreated(Out, kw_only=True):
    key: ApiKey
    token: str


class KeyOut(Out, kw_only=True):
    key: ApiKey


class KeyList(Out, kw_only=True):
    keys: list[ApiKey]


# -- audit, export, import, reindex ----------------------------------------------------------

class AuditIn(In, kw_only=True):
    action: Annotated[str, Meta(max_length=64)] | None = None
    key_id: Id | None = None
    since_epoch: Epoch | None = None
    until_epoch: Epoch | None = None
    before_id: Annotated[int, Meta(ge=1)] | None = None
    limit: Annotated[int, Meta(ge=1, le=1000)] = 100


class AuditEntry(Out, kw_only=True):
    id: int
    at_epoch: int
    action: str
    key_id: str | None
    target: str | None
    count: int | None
    request_id: str | None
    detail: Meta_


class AuditOut(Out, kw_only=True):
    entries: list[AuditEntry]


class ExportIn(In, kw_only=True):
    project: Name | None = None
    project_id: Id | None = None
    include_events: bool = True


ImportFormat = Literal["jsonl", "claude-mem-db", "transcripts", "mcp-memory", "markdown"]


class ImportIn(In, kw_only=True):
    """What to import; over HTTP the body is the data and these fields are query parameters.

    `jsonl`: an export of this server. `claude-mem-db`: the upstream worker's SQLite file.
    `transcripts`: Claude Code transcript JSONL lines. `mcp-memory`: the MCP memory server's
    memory.jsonl. `markdown`: JSONL of `{"path", "text"}`, one line per Markdown file."""

    lines: Any = None
    format: ImportFormat = "jsonl"
    project: Name | None = None
    project_map: Annotated[list[str], Meta(max_length=1000)] = []
    since_epoch: Epoch | None = None
    dry_run: bool = False


class ImportOut(Out, kw_only=True):
    imported: dict[str, int]
    skipped: dict[str, int]
    errors: list[dict[str, Any]]
    warnings: list[str] = []
    format: str = "jsonl"
    dry_run: bool = False


class ReindexOut(Out, kw_only=True):
    memories: int
    vectors: int
