# SPDX-License-Identifier: Apache-2.0
"""API keys repository: the jti row of each key, with the sha256 of the token, never the token."""

from __future__ import annotations

import hashlib
from typing import Any

from .jsoncol import dumps


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def insert(db: Any, *, jti: str, name: str | None, team_id: str, project_id: str | None,
           scopes: list[str], token: str, created_at: int, expires_at: int | None) -> Any:
    db.execute(
        "insert into api_keys (id, name, team_id, project_id, scopes, token_sha256, created_at, expires_at)"
        " values (?, ?, ?, ?, ?, ?, ?, ?)",
        (jti, name, team_id, project_id, dumps(scopes), token_hash(token), created_at, expires_at))
    return get(db, jti)


def get(db: Any, jti: str) -> Any:
    return db.execute("select k.*, t.name as team_name from api_keys k join teams t on t.id = k.team_id"
                      " where k.id = ?", (jti,)).fetchone()


def list_for(db: Any, team_id: str | None) -> list[Any]:
    sql = "select k.*, t.name as team_name from api_keys k join teams t on t.id = k.team_id"
    args: list[Any] = []
    if team_id is not None:
        sql += " where k.team_id = ?"
        args.append(team_id)
    return db.execute(sql + " order by k.created_at, k.id", args).fetchall()


def revoke(db: Any, jti: str, now: int) -> None:
    db.execute("update api_keys set revoked_at = coalesce(revoked_at, ?) where id = ?", (now, jti))


def touch(db: Any, jti: str, now: int) -> None:
    db.execute("update api_keys set last_used_at = ? where id = ?", (now, jti))


def add_signing_key(db: Any, kid: str, public_paserk: str, now: int) -> None:
    db.execute("insert or ignore into signing_keys (kid, public_paserk, created_at) values (?, ?, ?)",
               (kid, public_paserk, now))


def retire_other_signing_keys(db: Any, kid: str, now: int) -> None:
    db.execute("update signing_keys set retired_at = coalesce(retired_at, ?) where kid != ?", (now, kid))


def signing_key(db: Any, kid: str) -> Any:
    return db.execute("select * from signing_keys where kid = ?", (kid,)).fetchone()


def signing_keys(db: Any) -> list[Any]:
    return db.execute("select * from signing_keys order by created_at").fetchall()
