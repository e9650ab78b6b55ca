# SPDX-License-Identifier: Apache-2.0
"""Events repository: the durable inbox. The queue carries session ids; the work is here."""

from __future__ import annotations

from typing import Any

from . import sessions
from .ids import new_id
from .jsoncol import dumps

KINDS = ("prompt", "tool_use", "assistant_message", "session_start", "session_end", "note")


def get(db: Any, team_id: str, event_id: str) -> Any:
    return db.execute("select * from events where team_id = ? and id = ?",
                      (team_id, event_id)).fetchone()


def get_by_key(db: Any, team_id: str, key: str) -> Any:
    return db.execute("select * from events where team_id = ? and idempotency_key = ?",
                      (team_id, key)).fetchone()


def insert(db: Any, team_id: str, *, project_id: str, session_id: str, kind: str, payload: Any,
           occurred_at: int, received_at: int, idempotency_key: str | None,
           source_event_id: str | None) -> tuple[Any, bool]:
    """Append an event at the session's next seq; a known idempotency key returns the first row."""
    if idempotency_key:
        row = get_by_key(db, team_id, idempotency_key)
        if row is not None:
            return row, False
    eid = new_id("evt")
    seq = sessions.next_seq(db, session_id)
    db.execute(
        "insert into events (id, team_id, project_id, session_id, seq, kind, idempotency_key,"
        " source_event_id, payload, occurred_at, received_at) values (?,?,?,?,?,?,?,?,?,?,?)",
        (eid, team_id, project_id, session_id, seq, kind, idempotency_key, source_event_id,
         dumps(payload), occurred_at, received_at),
    )
    return get(db, team_id, eid), True


def memory_ids(db: Any, event_id: str) -> list[str]:
    return [r[0] for r in db.execute(
        "select memory_id from memory_sources where event_id = ? order by memory_id", (event_id,))]


def next_pending(db: Any, session_id: str) -> Any:
    """The session's first pending event in seq order (FIFO comes from seq, not from a broker)."""
    return db.execute("select * from events where session_id = ? and status = 'pending'"
                      " order by seq limit 1", (session_id,)).fetchone()


def has_pending(db: Any, session_id: str) -> bool:
    return db.execute("select 1 from events where session_id = ? and status = 'pending' limit 1",
                      (session_id,)).fetchone() is not None


def set_status(db: Any, event_id: str, status: str, error: str | None = None) -> None:
    db.execute("update events set status = ?, last_error = ?, next_attempt_at = null,"
               " attempts = attempts + 1 where id = ?", (status, error, event_id))


def record_failure(db: Any, event_id: str, error: str, retry_at: int | None) -> None:
    """Count a failed attempt: retried at `retry_at`, or marked failed when it is None."""
    if retry_at is None:
        db.execute("update events set status = 'failed', attempts = attempts + 1, last_error = ?,"
                   " next_attempt_at = null where id = ?", (error, event_id))
    else:
        db.execute("update events set attempts = attempts + 1, last_error = ?, next_attempt_at = ?"
                   " where id = ?", (error, retry_at, event_id))


def requeue(db: Any, team_id: str, event_id: str) -> None:
    db.execute("update events set status = 'pending', attempts = 0, next_attempt_at = null"
               " where team_id = ? and id = ?", (team_id, event_id))


def sessions_with_pending(db: Any, now: int, received_before: int, limit: int = 1000) -> list[str]:
    """Sessions owing work: a pending event received before `received_before`, no live lease."""
    return [r[0] for r in db.execute(
        "select distinct e.session_id from events e join sessions s on s.id = e.session_id"
        " where e.status = 'pending' and e.received_at <= ?"
        " and (s.lease_owner is null or s.lease_until < ?) limit ?",
        (received_before, now, limit))]


def team_depth(db: Any, team_id: str, now: int, project_ids: list[str] | None = None) -> dict[str, int | None]:
    """`depth` for one team (and, for a project-pinned key, its projects)."""
    only = f" and project_id in ({','.join('?' * len(project_ids))})" if project_ids is not None else ""
    args = [team_id, *(project_ids or [])]
    row = db.execute("select count(*), count(distinct session_id), min(received_at) from events"
                     f" where status = 'pending' and team_id = ?{only}", args).fetchone()
    failed = db.execute(f"select count(*) from events where status = 'failed' and team_id = ?{only}",
                        args).fetchone()[0]
    return {"pending_events": row[0], "sessions_waiting": row[1],
            "oldest_pending_age_ms": (now - row[2]) if row[2] is not None else None, "failed_events": failed}


def failed(db: Any, team_id: str, limit: int, project_ids: list[str] | None = None) -> list[Any]:
    """The newest failed events of a team."""
    only = f" and project_id in ({','.join('?' * len(project_ids))})" if project_ids is not None else ""
    return db.execute(f"select * from events where status = 'failed' and team_id = ?{only}"
                      " order by received_at desc, id desc limit ?", (team_id, *(project_ids or []), limit)).fetchall()


def depth(db: Any, now: int) -> dict[str, int | None]:
    row = db.execute(
        "select count(*), count(distinct session_id), min(received_at) from events"
        " where status = 'pending'").fetchone()
    failed = db.execute("select count(*) from events where status = 'failed'").fetchone()[0]
    return {
        "pending_events": row[0],
        "sessions_waiting": row[1],
        "oldest_pending_age_ms": (now - row[2]) if row[2] is not None else None,
        "failed_events": failed,
    }


