# SPDX-License-Identifier: Apache-2.0
"""The audit trail: recording what was served, written and removed, and reading it back."""

from __future__ import annotations

from typing import Any

from claude_mem.storage import audit as audit_repo
from claude_mem.storage.jsoncol import loads

from . import contracts as c
from .context import Context


def record(ctx: Context, db: Any, action: str, *, target: str | None = None,
           count: int | None = None, detail: dict | None = None) -> None:
    """One audit row: ids and counts only, never memory text."""
    audit_repo.record(db, ctx.principal.team_id, at=ctx.now(), action=action,
                      key_id=ctx.principal.key_id, target=target, count=count,
                      request_id=ctx.request_id, detail=detail)


def list_audit(req: c.AuditIn, ctx: Context) -> c.AuditOut:
    with ctx.store.read() as db:
        rows = audit_repo.query(db, ctx.principal.team_id, action=req.action, key_id=req.key_id,
                                since=req.since_epoch, until=req.until_epoch,
                                before_id=req.before_id, limit=req.limit)
    return c.AuditOut(entries=[
        c.AuditEntry(id=r["id"], at_epoch=r["at"], action=r["action"], key_id=r["key_id"],
                     target=r["target"], count=r["count"], request_id=r["request_id"],
                     detail=loads(r["detail"], {}))
        for r in rows])
