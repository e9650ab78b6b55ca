# SPDX-License-Identifier: Apache-2.0
"""Audit log repository: who did what to which ids; never memory text."""

from __future__ import annotations

from typing import Any

from .jsoncol import dumps


def record(db: Any, team_id: str, *, at: int, action: str, key_id: str | None = None,
           target: str | None = None, count: int | None = None, request_id: str | None = None,
           detail: dict | None = None) -> None:
    db.execute(
        "insert into audit_log (at, team_id, key_id, action, target, count, request_id, detail)"
        " values (?, ?, ?, ?, ?, ?, ?, ?)",
        (at, team_id, key_id, action, target, count, request_id, dumps(detail or {})))


def query(db: Any, team_id: str, *, action: str | None = None, key_id: str | None = None,
          since: int | None = None, until: int | None = None, before_id: int | None = None,
          limit: int = 100) -> list[Any]:
    sql, args = ["team_id = ?"], [team_id]
    for cond, value in (("action = ?", action), ("key_id = ?", key_id), ("at >= ?", since),
                        ("at <= ?", until), ("id < ?", before_id)):
        if value is not None:
            sql.append(cond)
            args.append(value)
    return db.execute(f"select * from audit_log where {' and '.join(sql)} order by id desc limit ?",
                      (*args, limit)).fetchall()
