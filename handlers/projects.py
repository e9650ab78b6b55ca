# SPDX-License-Identifier: Apache-2.0
"""Projects: a team's named buckets of sessions and memories."""

from __future__ import annotations

from claude_mem.storage import projects as projects_repo

from . import contracts as c
from . import views
from .context import Context
from .errors import Conflict, Forbidden, NotFound
from .scoping import project_allowed
from .teams import target_team


def create_project(req: c.ProjectCreate, ctx: Context) -> c.ProjectOut:
    if ctx.principal.project_id is not None:
        raise Forbidden("this key is pinned to one project and cannot create others")
    name = req.name.strip()
    with ctx.store.write() as db:
        team = target_team(ctx, db, req.team)
        if projects_repo.get_by_name(db, team["id"], name) is not None:
            raise Conflict(f"project {name!r} already exists")
        row = projects_repo.create(db, team["id"], name, ctx.now(), req.metadata)
    return c.ProjectOut(project=views.project(row))


def list_projects(req: c.ProjectListIn, ctx: Context) -> c.ProjectList:
    pinned = ctx.principal.project_id
    with ctx.store.read() as db:
        team = target_team(ctx, db, req.team)
        rows = projects_repo.list_all(db, team["id"], [pinned] if pinned else None)
    return c.ProjectList(projects=[views.project(r) for r in rows])


def get_project(req: c.ById, ctx: Context) -> c.ProjectOut:
    with ctx.store.read() as db:
        rows = projects_repo.list_all(db, ctx.principal.team_id, [req.id])
    if not rows or not project_allowed(ctx, req.id):
        raise NotFound(f"project {req.id} not found")
    return c.ProjectOut(project=views.project(rows[0]))
