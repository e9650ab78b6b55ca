# SPDX-License-Identifier: Apache-2.0
"""The sqlite-vec index of memories: a derived table, created when the extension loads.

Team is the partition key (multi-tenant KNN scans only one team's vectors); project and kind are
metadata columns so that KNN can filter on them.
"""

from __future__ import annotations

from typing import Any

DIMENSIONS = 384


def ensure_vector_table(conn: Any, dimensions: int = DIMENSIONS) -> None:
    conn.execute(
        "create virtual table if not exists memories_vec using vec0("
        " memory_pk integer primary key,"
        " team_id text partition key,"
        f" embedding float[{dimensions}] distance_metric=cosine,"
        " project_id text,"
        " kind text)"
    )


def has_vector_table(conn: Any) -> bool:
    return conn.execute(
        "select 1 from sqlite_master where name = 'memories_vec'"
    ).fetchone() is not None
