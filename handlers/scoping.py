# SPDX-License-Identifier: Apache-2.0
"""Resolving what a caller names (a project by name or id, a session) inside its own team.

Another team's ids are simply not found (404, never 403), and a key pinned to one project sees
only that project.
"""

from __future__ import annotations

from typing import Any

from claude_mem.storage import projects as projects_repo
from claude_mem.storage import sessions as sessions_repo

from .context import Context
from .errors import Forbidden, Invalid, NotFound


def project_allowed(ctx: Context, project_id: str) -> bool:
    pinned = ctx.principal.project_id
    return pinned is None or pinned == project_id


def resolve_project(ctx: Context, db: Any, *, name: str | None, project_id: str | None,
                    create: bool = False, required: bool = True) -> Any:
    """The caller's project row named by `name` or `project_id` (created by name when `create`)."""
    team = ctx.principal.team_id
    if project_id:
        row = projects_repo.get(db, team, project_id)
        if row is None or not project_allowed(ctx, row["id"]):
            raise NotFound(f"project {project_id} not found")
        if name and row["name"] != name:
            raise Invalid("$.project", "project and projectId name different projects")
        return row
    if name:
        row = projects_repo.get_by_name(db, team, name)
        if row is None:
            if not create:
                raise NotFound(f"project {name!r} not found")
            if ctx.principal.project_id is not None:
                raise Forbidden("this key is pinned to one project and cannot create others")
            return projects_repo.create(db, team, name, ctx.now())
        if not project_allowed(ctx, row["id"]):
            raise NotFound(f"project {name!r} not found")
        return row
    if ctx.principal.project_id:
        return projects_repo.get(db, team, ctx.principal.project_id)
    if required:
        raise Invalid("$.project", "give `project` (a name) or `projectId`")
    return None


def visible_project_ids(ctx: Context, db: Any, *, name: str | None, project_id: str | None,
                        project_ids: list[str] | None = None) -> list[str] | None:
    """Project filter for reads: None means every project of the team the caller may see."""
    if name or project_id:
        return [resolve_project(ctx, db, name=name, project_id=project_id)["id"]]
    if project_ids:
        team = ctx.principal.team_id
        return [p for p in project_ids
                if projects_repo.get(db, team, p) is not None and project_allowed(ctx, p)]
    if ctx.principal.project_id:
        return [ctx.principal.project_id]
    return None


def get_session(ctx: Context, db: Any, session_id: str) -> Any:
    row = sessions_repo.get(db, ctx.principal.team_id, session_id)
    if row is None or not project_allowed(ctx, row["project_id"]):
        raise NotFound(f"session {session_id} not found")
    return row
