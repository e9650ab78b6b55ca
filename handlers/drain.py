# SPDX-License-Identifier: Apache-2.0
"""Drain: process one session's pending events in seq order.

Each event is distilled, its memories written and the event marked done in one transaction, so
running a drain twice writes nothing new. A distiller failure is retried with backoff a bounded
number of times, then the event is marked `failed` and the session goes on. The queue engine
guarantees that only one drain of a session runs at a time.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from claude_mem.storage import events as events_repo
from claude_mem.storage import memories as memories_repo
from claude_mem.storage import sessions as sessions_repo
from claude_mem.storage.jsoncol import loads
from claude_mem.storage.memories import NewMemory

from . import contracts as c
from .adapters import claude_code_input, claude_code_tool
from .context import Context, Principal
from .distiller import Draft, Prior, distil

MAX_EVENTS_PER_DRAIN = 200


class DrainIn(c.In, kw_only=True):
    session_id: str


class DrainOut(c.Out, kw_only=True):
    processed: int
    failed: int
    more: bool


class _History:
    def __init__(self, db: Any, session_id: str):
        self.db, self.session_id = db, session_id

    def memories(self) -> list[Prior]:
        rows = self.db.execute(
            "select * from memories where session_id = ? and forgotten_at is null"
            " order by created_at, pk", (self.session_id,)).fetchall()
        return [Prior(kind=r["kind"], type=r["type"], title=r["title"], narrative=r["narrative"],
                      files_read=loads(r["files_read"], []), files_modified=loads(r["files_modified"], []),
                      facts=loads(r["facts"], [])) for r in rows]

    def reads(self, path: str) -> list[Prior]:
        rows = self.db.execute(
            "select m.* from memory_files f join memories m on m.pk = f.memory_pk"
            " where m.session_id = ? and f.path = ? and f.role = 'read'", (self.session_id, path)).fetchall()
        return [Prior(kind=r["kind"], type=r["type"], title=r["title"], narrative="",
                      files_read=loads(r["files_read"], []), files_modified=[], facts=[]) for r in rows]


def _prior_for(kind: str, payload: dict, history: _History) -> list[Prior]:
    """Only what the rule for this event needs, so a long session costs no more per event."""
    if kind in ("session_end", "assistant_message"):
        return history.memories()
    if kind == "tool_use" and claude_code_tool(str(payload.get("tool_name") or payload.get("tool") or "")) == "Read":
        tool_input = payload.get("tool_input") or payload.get("args") or {}
        path = claude_code_input(tool_input).get("file_path") if isinstance(tool_input, dict) else None
        return history.reads(path) if isinstance(path, str) else []
    return []


def _write(db: Any, team: str, event: Any, drafts: list[Draft], now: int, embed: Any = None) -> list[str]:
    ids = []
    for d in drafts:
        row, _ = memories_repo.insert(db, team, NewMemory(
            project_id=event["project_id"], session_id=event["session_id"], kind=d.kind, type=d.type,
            title=d.title, subtitle=d.subtitle, narrative=d.narrative, facts=d.facts,
            concepts=d.concepts, files_read=d.files_read, files_modified=d.files_modified,
            created_at=event["occurred_at"], updated_at=now), now, (event["id"],), embed)
        ids.append(row["id"])
        if d.kind == "summary":
            # A later summary of the same session replaces the earlier one.
            for old in db.execute(
                    "select id from memories where session_id = ? and kind = 'summary' and id != ?"
                    " and superseded_by is null and forgotten_at is null",
                    (event["session_id"], row["id"])).fetchall():
                memories_repo.supersede(db, team, old["id"], row["id"], now)
    return ids


def backoff_ms(attempts: int) -> int:
    return min(30_000, 250 * 2 ** attempts)


def drain(req: DrainIn, ctx: Context,
          distiller: Callable[[str, dict, list[Prior]], list[Draft]] = distil,
          stop: Callable[[], bool] = lambda: False) -> DrainOut:
    """`stop` is asked between events: a worker told to shut down finishes the current event."""
    processed = failed = 0
    with ctx.store.read() as db:
        team = sessions_repo.team_of(db, req.session_id)
    if team is None:
        return DrainOut(processed=0, failed=0, more=False)
    ctx.principal = Principal.system(team)
    for _ in range(MAX_EVENTS_PER_DRAIN):
        if stop():
            return DrainOut(processed=processed, failed=failed, more=True)
        # Distil outside the write transaction: an LLM distiller may take seconds, and writers
        # (ingest) must not wait for it. The session is ours alone (lease or lock), so the event
        # read here is still the one to write for, unless someone retried or forgot it meanwhile.
        with ctx.store.read() as db:
            event = events_repo.next_pending(db, req.session_id)
            if event is None:
                return DrainOut(processed=processed, failed=failed, more=False)
            if event["next_attempt_at"] is not None and event["next_attempt_at"] > ctx.now():
                return DrainOut(processed=processed, failed=failed, more=True)  # backing off
            payload = loads(event["payload"], {})
            prior = _prior_for(event["kind"], payload, _History(db, req.session_id))
        drafts: list[Draft] = []
        error: Exception | None = None
        try:
            drafts = distiller(event["kind"], payload, prior)
        except Exception as exc:
            error = exc
        with ctx.store.write() as db:
            current = events_repo.get(db, team, event["id"])
            if current is None or current["status"] != "pending" or current["attempts"] != event["attempts"]:
                continue
            now = ctx.now()
            if error is None:
                db.execute("savepoint distil")
                try:
                    _write(db, team, event, drafts, now, ctx.embed)
                    events_repo.set_status(db, event["id"], "done")
                    db.execute("release distil")
                    processed += 1
                    continue
                except Exception as exc:
                    db.execute("rollback to distil")
                    db.execute("release distil")
                    error = exc
            attempts = event["attempts"] + 1
            message = f"{type(error).__name__}: {error}"[:2000]
            if attempts >= ctx.settings.max_attempts:
                events_repo.record_failure(db, event["id"], message, None)
                failed += 1
                _log_failure(event["id"], error)
            else:
                events_repo.record_failure(db, event["id"], message, now + backoff_ms(attempts))
                return DrainOut(processed=processed, failed=failed, more=True)
    return DrainOut(processed=processed, failed=failed, more=True)


def _log_failure(event_id: str, exc: Exception) -> None:
    import logging
    logging.getLogger("claude_mem.drain").warning(
        "event %s failed for good: %s", event_id, "".join(traceback.format_exception_only(exc)).strip())
