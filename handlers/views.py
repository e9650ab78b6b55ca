# SPDX-License-Identifier: Apache-2.0
"""Rows to wire Structs: the one place where a stored row becomes what a caller sees."""

from __future__ import annotations

from typing import Any

from claude_mem.storage import memories as memories_repo
from claude_mem.storage.jsoncol import loads

from . import contracts as c


def project(row: Any) -> c.Project:
    keys = row.keys()
    return c.Project(
        id=row["id"], name=row["name"], created_at_epoch=row["created_at"],
        metadata=loads(row["metadata"], {}),
        memory_count=row["memory_count"] if "memory_count" in keys else None,
        session_count=row["session_count"] if "session_count" in keys else None,
    )


def session(row: Any) -> c.Session:
    return c.Session(
        id=row["id"], project_id=row["project_id"], external_session_id=row["external_id"],
        content_session_id=row["external_id"], platform_source=row["platform"],
        agent_id=row["agent_id"], agent_type=row["agent_type"], status=row["status"],
        started_at_epoch=row["started_at"], ended_at_epoch=row["ended_at"],
        metadata=loads(row["metadata"], {}),
    )


def event_ref(row: Any) -> c.EventRef:
    return c.EventRef(id=row["id"], session_id=row["session_id"], seq=row["seq"], status=row["status"])


def event(row: Any, memory_ids: list[str]) -> c.Event:
    return c.Event(
        id=row["id"], project_id=row["project_id"], session_id=row["session_id"], seq=row["seq"],
        event_type=row["kind"], status=row["status"], attempts=row["attempts"],
        last_error=row["last_error"], source_event_id=row["source_event_id"],
        occurred_at_epoch=row["occurred_at"], received_at_epoch=row["received_at"],
        payload=loads(row["payload"], {}), memory_ids=memory_ids,
    )


def memory(row: Any, source_event_ids: list[str] | None = None, supersedes: list[str] | None = None) -> c.Memory:
    lists = memories_repo.decode_lists(row)
    return c.Memory(
        id=row["id"], project_id=row["project_id"], session_id=row["session_id"], kind=row["kind"],
        type=row["type"], title=row["title"], subtitle=row["subtitle"], narrative=row["narrative"],
        facts=lists["facts"], concepts=lists["concepts"], files_read=lists["files_read"],
        files_modified=lists["files_modified"], metadata=lists["metadata"],
        created_at_epoch=row["created_at"], updated_at_epoch=row["updated_at"],
        superseded_by=row["superseded_by"], forgotten_at_epoch=row["forgotten_at"],
        source_event_ids=source_event_ids or [], supersedes=supersedes or [],
    )


def index_item(row: Any) -> c.IndexItem:
    return c.IndexItem(id=row["id"], kind=row["kind"], type=row["type"], title=row["title"],
                       project_id=row["project_id"], session_id=row["session_id"],
                       created_at_epoch=row["created_at"])
