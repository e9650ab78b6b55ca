# SPDX-License-Identifier: Apache-2.0
"""Liveness, readiness and what this server is."""

from __future__ import annotations

from importlib import metadata

from claude_mem.storage import events as events_repo
from claude_mem.storage import memories as memories_repo

from . import contracts as c
from .context import Context


def version() -> str:
    try:
        return metadata.version("claude-mem-server")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0.0.0"


def healthz(req: c.Empty, ctx: Context) -> c.Health:
    return c.Health(status="ok")


def queue_figures(ctx: Context) -> dict:
    with ctx.store.read() as db:
        depth = events_repo.depth(db, ctx.now())
    status = ctx.queue.status()
    return {"engine": ctx.queue.name, **status,
            **{k: v for k, v in depth.items()}}


def readyz(req: c.Empty, ctx: Context) -> c.Readiness:
    checks: dict[str, c.Check] = {}
    try:
        with ctx.store.read() as db:
            db.execute("select 1 from memories limit 1").fetchall()
        checks["database"] = c.Check(ok=True, detail=str(ctx.store.path))
    except Exception as exc:
        checks["database"] = c.Check(ok=False, detail=f"{type(exc).__name__}: {exc}")
    queue: dict = {}
    try:
        queue = queue_figures(ctx)
        checks["queue"] = c.Check(ok=bool(queue.get("healthy")), detail=str(queue.get("detail", "")))
    except Exception as exc:
        checks["queue"] = c.Check(ok=False, detail=f"{type(exc).__name__}: {exc}")
    ok = all(ch.ok for ch in checks.values())
    return c.Readiness(status="ok" if ok else "degraded", checks=checks, queue=queue)


def info(req: c.Empty, ctx: Context) -> c.Info:
    caps = ctx.store.caps
    with ctx.store.read() as db:
        counts = memories_repo.counts(db, ctx.principal.team_id)
        team = ctx.principal.team_id
        counts["projects"] = db.execute("select count(*) from projects where team_id = ?", (team,)).fetchone()[0]
        counts["sessions"] = db.execute("select count(*) from sessions where team_id = ?", (team,)).fetchone()[0]
        counts["events"] = db.execute("select count(*) from events where team_id = ?", (team,)).fetchone()[0]
        counts["memories"] = sum(v for k, v in counts.items() if k in ("observation", "decision", "summary", "note"))
    return c.Info(
        name="claude-mem-server", version=version(), auth_mode=ctx.settings.auth_mode,
        queue_engine=ctx.settings.queue_engine, schema_version=ctx.store.schema_version(),
        sqlite={"driver": caps.driver, "version": caps.sqlite_version, "fts5": caps.fts5,
                "vec": caps.vec, "vecVersion": caps.vec_version, "vecError": caps.vec_error},
        counts=counts, queue=queue_figures(ctx),
        caller=c.Caller(team_id=team, project_id=ctx.principal.project_id,
                        scopes=sorted(ctx.principal.scopes), key_id=ctx.principal.key_id),
    )
