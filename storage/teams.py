# SPDX-License-Identifier: Apache-2.0
"""Teams repository. The built-in `local` team is the server operator's own."""

from __future__ import annotations

from typing import Any

from .ids import new_id


def get(db: Any, team_id: str) -> Any:
    return db.execute("select * from teams where id = ?", (team_id,)).fetchone()


def get_by_name(db: Any, name: str) -> Any:
    return db.execute("select * from teams where name = ?", (name,)).fetchone()


def create(db: Any, name: str, now: int) -> Any:
    tid = new_id("team")
    db.execute("insert into teams (id, org_id, name, created_at) values (?, 'org_local', ?, ?)",
               (tid, name, now))
    return get(db, tid)


def list_all(db: Any, team_ids: list[str] | None = None) -> list[Any]:
    sql = ("select t.*, (select count(*) from projects p where p.team_id = t.id) as project_count,"
           " (select count(*) from api_keys k where k.team_id = t.id and k.revoked_at is null) as key_count"
           " from teams t")
    if team_ids is not None:
        sql += f" where t.id in ({','.join('?' * len(team_ids))})"
    return db.execute(sql + " order by t.name", team_ids or []).fetchall()
