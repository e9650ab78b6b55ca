# SPDX-License-Identifier: Apache-2.0
"""Import the upstream worker's database (`~/.claude-mem/claude-mem.db`), read-only.

sdk_sessions become sessions, observations and session_summaries become memories with their
original times, types, facts, concepts and files, user_prompts become the sessions' requests. The
upstream ids are kept in metadata and our ids are derived from them, so a re-run adds nothing.
A database from an older upstream version (tables or columns missing) imports what it has and
says what it left out.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tempfile
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from claude_mem.storage import sessions as sessions_repo
from claude_mem.storage.memories import NewMemory

from .context import Context
from .import_common import MemoryWriter, Projects, Report, text, texts

TYPES = {"bugfix", "feature", "refactor", "change", "discovery", "decision", "security_alert", "security_note"}
LIMIT = 16_000

# The columns each table may have, newest schema; older databases lack some of them.
COLUMNS = {
    "sdk_sessions": ["id", "content_session_id", "memory_session_id", "project", "platform_source", "user_prompt",
                     "started_at_epoch", "completed_at_epoch", "status", "custom_title"],
    "observations": ["id", "memory_session_id", "project", "text", "type", "title", "subtitle", "facts", "concepts",
                     "files_read", "files_modified", "narrative", "prompt_number", "merged_into_project",
                     "agent_type", "agent_id", "created_at_epoch", "created_at"],
    "session_summaries": ["id", "memory_session_id", "project", "request", "investigated", "learned", "completed",
                          "next_steps", "files_read", "files_edited", "notes", "prompt_number", "created_at_epoch",
                          "created_at"],
    "user_prompts": ["id", "session_db_id", "content_session_id", "prompt_number", "prompt_text",
                     "created_at_epoch", "created_at"],
}
# Without these a table cannot be imported at all.
REQUIRED = {"sdk_sessions": {"id"}, "observations": {"id"}, "session_summaries": {"id"},
            "user_prompts": {"id", "prompt_text"}}


@contextmanager
def opened(source: Any) -> Iterator[sqlite3.Connection]:
    """The database read-only: a local file in place, an uploaded body from a temporary copy."""
    name = getattr(source, "name", None)
    tmp = None
    if isinstance(name, str) and os.path.isfile(name):
        path = name
    else:
        fd, tmp = tempfile.mkstemp(suffix=".db")
        with os.fdopen(fd, "wb") as out:
            if hasattr(source, "read"):
                shutil.copyfileobj(source, out, 1 << 20)
            else:
                for chunk in source:
                    out.write(chunk)
        path = tmp
    try:
        conn = sqlite3.connect(f"file:{urllib.parse.quote(os.path.abspath(path))}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        try:
            conn.execute("select count(*) from sqlite_master").fetchone()
            yield conn
        finally:
            conn.close()
    finally:
        if tmp:
            os.unlink(tmp)


def _epoch(row: dict[str, Any]) -> int:
    value = row.get("created_at_epoch") or row.get("started_at_epoch")
    if isinstance(value, (int, float)) and value > 0:
        return int(value if value > 10_000_000_000 else value * 1000)  # seconds in old rows
    return 0


def _json_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, str) and value.strip():
        try:
            parsed = json.loads(value)
        except ValueError:
            return [v.strip() for v in value.split(",") if v.strip()]
        return parsed if isinstance(parsed, list) else [parsed]
    return []


def _rows(conn: sqlite3.Connection, table: str, report: Report) -> Iterator[dict[str, Any]]:
    have = {r[1] for r in conn.execute(f"pragma table_info({table})")}
    if not have:
        report.warn(f"{table}: no such table in this database (older upstream version); skipped")
        return
    missing_required = REQUIRED[table] - have
    if missing_required:
        report.warn(f"{table}: lacks {', '.join(sorted(missing_required))}; skipped")
        return
    wanted = COLUMNS[table]
    absent = [col for col in wanted if col not in have]
    if absent:
        report.warn(f"{table}: no column {', '.join(absent)} (older upstream version); left empty")
    select = ", ".join(col if col in have else f"null as {col}" for col in wanted)
    for row in conn.execute(f"select {select} from {table} order by id"):
        yield dict(row)


def import_upstream_db(source: Any, ctx: Context, projects: Projects, report: Report, db: Any) -> None:
    team = ctx.principal.team_id
    writer = MemoryWriter(ctx, db, report)
    with opened(source) as conn:
        tables = {r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")}
        if not tables & set(COLUMNS):
            report.error({"table": "*"}, "not an upstream claude-mem database (none of its tables is there)")
            return
        sessions: dict[str, str] = {}  # upstream memory_session_id / content id / db id -> our session id
        session_projects: dict[str, str] = {}
        for s in _rows(conn, "sdk_sessions", report):
            try:
                name = s.get("project")
                project_id = projects.id_for(db, name)
                external = s.get("content_session_id") or s.get("memory_session_id") or f"upstream-{s['id']}"
                platform = s.get("platform_source") or "claude"
                platform = "claude-code" if platform == "claude" else str(platform)[:64]
                started = _epoch(s) or ctx.now()
                row, created = sessions_repo.start(
                    db, team, project_id, external_id=str(external)[:200], platform=platform, now=started,
                    metadata={"upstream": {"id": s["id"], "memorySessionId": s.get("memory_session_id"),
                                           "title": s.get("custom_title")}})
                if created and (s.get("completed_at_epoch") or s.get("status") in ("completed", "failed")):
                    ended = s.get("completed_at_epoch")
                    sessions_repo.end(db, team, row["id"], int(ended) if ended else started)
                report.count("sessions", created)
                for key in (s.get("memory_session_id"), s.get("content_session_id"), f"db:{s['id']}"):
                    if key:
                        sessions[str(key)] = row["id"]
                        session_projects[str(key)] = project_id
            except Exception as exc:
                report.error({"table": "sdk_sessions", "id": s.get("id")}, f"{type(exc).__name__}: {exc}")

        def session_of(key: Any) -> tuple[str | None, str | None]:
            return sessions.get(str(key)), session_projects.get(str(key))

        for o in _rows(conn, "observations", report):
            try:
                sid, pid = session_of(o.get("memory_session_id"))
                pid = pid if pid and not o.get("project") else projects.id_for(db, o.get("project"))
                narrative = text(o.get("narrative") or o.get("text"), LIMIT)
                title = text(o.get("title"), 2000) or narrative[:80] or f"Observation {o['id']}"
                mtype = o.get("type") if o.get("type") in TYPES else None
                concepts = texts(_json_list(o.get("concepts")), 200)
                if o.get("type") and mtype is None:
                    concepts.append(str(o["type"])[:60])  # e.g. "sensitive": kept as a concept
                writer.add(f"upstream:observation:{o['id']}", NewMemory(
                    project_id=pid, session_id=sid, kind="decision" if mtype == "decision" else "observation",
                    type=mtype, title=title, subtitle=text(o.get("subtitle"), 2000), narrative=narrative or title,
                    facts=texts(_json_list(o.get("facts")), 2000), concepts=concepts,
                    files_read=[str(f) for f in _json_list(o.get("files_read"))][:200],
                    files_modified=[str(f) for f in _json_list(o.get("files_modified"))][:200],
                    metadata={"upstream": {"table": "observations", "id": o["id"],
                                           "promptNumber": o.get("prompt_number"),
                                           "agentId": o.get("agent_id")}},
                    created_at=_epoch(o) or ctx.now()))
            except Exception as exc:
                report.error({"table": "observations", "id": o.get("id")}, f"{type(exc).__name__}: {exc}")

        for s in _rows(conn, "session_summaries", report):
            try:
                sid, pid = session_of(s.get("memory_session_id"))
                pid = pid if pid and not s.get("project") else projects.id_for(db, s.get("project"))
                sections = [(label, text(s.get(key), 4000)) for label, key in (
                    ("Request", "request"), ("Investigated", "investigated"), ("Learned", "learned"),
                    ("Completed", "completed"), ("Next steps", "next_steps"), ("Notes", "notes"))]
                narrative = "\n\n".join(f"{label}:\n{body}" for label, body in sections if body.strip())
                if not narrative:
                    report.count("summaries", False)
                    continue
                request = text(s.get("request"), 200).splitlines()[0] if s.get("request") else "work"
                writer.add(f"upstream:summary:{s['id']}", NewMemory(
                    project_id=pid, session_id=sid, kind="summary", title=f"Session: {request}"[:160],
                    narrative=narrative, concepts=["session-summary"],
                    files_read=[str(f) for f in _json_list(s.get("files_read"))][:200],
                    files_modified=[str(f) for f in _json_list(s.get("files_edited"))][:200],
                    metadata={"upstream": {"table": "session_summaries", "id": s["id"],
                                           "promptNumber": s.get("prompt_number")}},
                    created_at=_epoch(s) or ctx.now()), kind="summaries")
            except Exception as exc:
                report.error({"table": "session_summaries", "id": s.get("id")}, f"{type(exc).__name__}: {exc}")

        for p in _rows(conn, "user_prompts", report):
            try:
                sid, pid = session_of(p.get("content_session_id") or f"db:{p.get('session_db_id')}")
                if sid is None:
                    sid, pid = session_of(f"db:{p.get('session_db_id')}")
                prompt = text(p.get("prompt_text"), LIMIT).strip()
                if not prompt:  # a private turn upstream: nothing to keep
                    report.count("prompts", False)
                    continue
                writer.add(f"upstream:prompt:{p['id']}", NewMemory(
                    project_id=pid or projects.id_for(db, None), session_id=sid, kind="observation",
                    type=None, title=f"Request: {prompt.splitlines()[0][:150]}", narrative=prompt,
                    concepts=["user-request"],
                    metadata={"upstream": {"table": "user_prompts", "id": p["id"],
                                           "promptNumber": p.get("prompt_number")}},
                    created_at=_epoch(p) or ctx.now()), kind="prompts")
            except Exception as exc:
                report.error({"table": "user_prompts", "id": p.get("id")}, f"{type(exc).__name__}: {exc}")
    writer.flush()
