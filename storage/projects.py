# SPDX-License-Identifier: Apache-2.0
"""Projects repository: a team's named projects (unique per team)."""

from __future__ import annotations

from typing import Any

from .ids import new_id
from .jsoncol import dumps


def get(db: Any, team_id: str, project_id: str) -> Any:
    return db.execute("select * from projects where team_id = ? and id = ?",
                      (team_id, project_id)).fetchone()


def get_by_name(db: Any, team_id: str, name: str) -> Any:
    return db.execute("select * from projects where team_id = ? and name = ?",
                      (team_id, name)).fetchone()


def create(db: Any, team_id: str, name: str, now: int, metadata: dict | None = None,
           project_id: str | None = None) -> Any:
    pid = project_id or new_id("prj")
    db.execute(
        "insert into projects (id, team_id, name, created_at, metadata) values (?, ?, ?, ?, ?)",
        (pid, team_id, name, now, dumps(metadata or {})),
    )
    return get(db, team_id, pid)


def get_or_create(db: Any, team_id: str, name: str, now: int) -> Any:
    row = get_by_name(db, team_id, name)
    return row if row is not None else create(db, team_id, name, now)


def list_all(db: Any, team_id: str, project_ids: list[str] | None = None) -> list[Any]:
    sql = ("select p.*, (select count(*) from memories m where m.project_id = p.id"
           " and m.forgotten_at is null) as memory_count,"
           " (select count(*) from sessions s where s.project_id = p.id) as session_count"
           " from projects p where p.team_id = ?")
    args: list[Any] = [team_id]
    if project_ids is not None:
        sql += f" and p.id in ({','.join('?' * len(project_ids))})"
        args += project_ids
    return db.execute(sql + " order by p.name", args).fetchall()
