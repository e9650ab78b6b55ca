# SPDX-License-Identifier: Apache-2.0
"""A small versioned migrations runner: each `migrations/NNNN_name.sql` is applied once, in order,
inside one transaction, and recorded in `schema_migrations`. Running it again changes nothing."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from importlib import resources
from typing import Any

from .connection import sqlite

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available() -> list[Migration]:
    """Every migration shipped in the package, oldest first."""
    found = []
    for entry in resources.files("claude_mem.storage.migrations").iterdir():
        m = _NAME.match(entry.name)
        if m:
            found.append(Migration(int(m.group(1)), m.group(2), entry.read_text("utf-8")))
    return sorted(found, key=lambda m: m.version)


def latest_version() -> int:
    return available()[-1].version


def _statements(sql: str) -> list[str]:
    """Split a script into statements (triggers with inner semicolons stay whole)."""
    out, buf = [], ""
    for line in sql.splitlines(keepends=True):
        if not buf and (not line.strip() or line.lstrip().startswith("--")):
            continue
        buf += line
        if sqlite.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        raise ValueError(f"incomplete SQL statement at the end of a migration: {buf[:80]!r}")
    return out


def applied_versions(conn: Any) -> list[int]:
    conn.execute(
        "create table if not exists schema_migrations ("
        " version integer primary key, name text not null, applied_at integer not null)"
    )
    return [r[0] for r in conn.execute("select version from schema_migrations order by version")]


def current_version(conn: Any) -> int:
    versions = applied_versions(conn)
    return versions[-1] if versions else 0


def migrate(conn: Any, target: int | None = None) -> list[int]:
    """Apply pending migrations up to `target` (default: all). Returns the versions applied."""
    done = set(applied_versions(conn))
    applied = []
    for mig in available():
        if mig.version in done or (target is not None and mig.version > target):
            continue
        conn.execute("begin immediate")
        try:
            # Another process may have migrated while we waited for the write lock.
            if conn.execute("select 1 from schema_migrations where version = ?",
                            (mig.version,)).fetchone():
                conn.execute("commit")
                continue
            for stmt in _statements(mig.sql):
                conn.execute(stmt)
            conn.execute(
                "insert into schema_migrations (version, name, applied_at) values (?, ?, ?)",
                (mig.version, mig.name, int(time.time() * 1000)),
            )
            conn.execute("commit")
        except BaseException:
            conn.execute("rollback")
            raise
        applied.append(mig.version)
    return applied
