# SPDX-License-Identifier: Apache-2.0
"""Sessions repository, with the per-session lease that the sqlite queue engine holds."""

from __future__ import annotations

from typing import Any

from .ids import new_id
from .jsoncol import dumps


def get(db: Any, team_id: str, session_id: str) -> Any:
    return db.execute("select * from sessions where team_id = ? and id = ?",
                      (team_id, session_id)).fetchone()


def find(db: Any, team_id: str, project_id: str, platform: str, external_id: str) -> Any:
    return db.execute(
        "select * from sessions where team_id = ? and project_id = ? and platform = ?"
        " and external_id = ?", (team_id, project_id, platform, external_id)).fetchone()


def start(db: Any, team_id: str, project_id: str, *, external_id: str | None, platform: str,
          now: int, agent_id: str | None = None, agent_type: str | None = None,
          metadata: dict | None = None) -> tuple[Any, bool]:
    """Start a session, or return the one with this (project, platform, external id)."""
    if external_id:
        row = find(db, team_id, project_id, platform, external_id)
        if row is not None:
            return row, False
    sid = new_id("ses")
    db.execute(
        "insert into sessions (id, team_id, project_id, external_id, platform, agent_id, agent_type,"
        " started_at, metadata) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (sid, team_id, project_id, external_id or sid, platform, agent_id, agent_type, now,
         dumps(metadata or {})),
    )
    return get(db, team_id, sid), True


def end(db: Any, team_id: str, session_id: str, now: int) -> Any:
    db.execute("update sessions set status = 'ended', ended_at = coalesce(ended_at, ?)"
               " where team_id = ? and id = ?", (now, team_id, session_id))
    return get(db, team_id, session_id)


def next_seq(db: Any, session_id: str) -> int:
    return db.execute("update sessions set last_seq = last_seq + 1 where id = ? returning last_seq",
                      (session_id,)).fetchone()[0]


def team_of(db: Any, session_id: str) -> str | None:
    """The owning team of a session: the queue knows session ids only."""
    row = db.execute("select team_id from sessions where id = ?", (session_id,)).fetchone()
    return row[0] if row else None


def try_lease(db: Any, session_id: str, owner: str, now: int, ttl_ms: int) -> bool:
    """Take (or renew) the session's lease if it is free, expired or already ours."""
    cur = db.execute(
        "update sessions set lease_owner = ?, lease_until = ? where id = ?"
        " and (lease_owner is null or lease_owner = ? or lease_until < ?)",
        (owner, now + ttl_ms, session_id, owner, now))
    return cur.rowcount == 1


def release_lease(db: Any, session_id: str, owner: str) -> None:
    db.execute("update sessions set lease_owner = null, lease_until = null"
               " where id = ? and lease_owner = ?", (session_id, owner))


def find_by_external(db: Any, team_id: str, platform: str, external_id: str) -> Any:
    """The latest session with this agent session id in any of the team's projects."""
    return db.execute("select * from sessions where team_id = ? and platform = ? and external_id = ?"
                      " order by started_at desc limit 1", (team_id, platform, external_id)).fetchone()
