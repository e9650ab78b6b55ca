# SPDX-License-Identifier: Apache-2.0
"""Teams and API keys. A key's token is returned once, at creation, and never stored.

An admin key manages its own team; the server operator (an admin of the built-in local team,
e.g. the CLI on the server's own data dir) manages every team.
"""

from __future__ import annotations

from typing import Any

from claude_mem.storage import api_keys as keys_repo
from claude_mem.storage import projects as projects_repo
from claude_mem.storage import teams as teams_repo
from claude_mem.storage.ids import new_id
from claude_mem.storage.jsoncol import loads

from . import contracts as c
from .audit import record
from .context import Context
from .errors import Conflict, Forbidden, Invalid, NotFound


def target_team(ctx: Context, db: Any, name: str | None) -> Any:
    """The team a call acts on: the caller's own, or (operators only) another one by name."""
    if name is None:
        return teams_repo.get(db, ctx.principal.team_id)
    row = teams_repo.get_by_name(db, name) or teams_repo.get(db, name)
    if row is None or (row["id"] != ctx.principal.team_id and not ctx.principal.operator):
        raise NotFound(f"team {name!r} not found")
    return row


def _team(row: Any) -> c.Team:
    keys = row.keys()
    return c.Team(id=row["id"], name=row["name"], created_at_epoch=row["created_at"],
                  project_count=row["project_count"] if "project_count" in keys else None,
                  key_count=row["key_count"] if "key_count" in keys else None)


def _key(row: Any) -> c.ApiKey:
    return c.ApiKey(id=row["id"], name=row["name"], team_id=row["team_id"], team=row["team_name"],
                    project_id=row["project_id"], scopes=loads(row["scopes"], []),
                    created_at_epoch=row["created_at"], expires_at_epoch=row["expires_at"],
                    revoked_at_epoch=row["revoked_at"], last_used_at_epoch=row["last_used_at"])


def create_team(req: c.TeamCreate, ctx: Context) -> c.TeamOut:
    if not ctx.principal.operator:
        raise Forbidden("only the server operator creates teams")
    with ctx.store.write() as db:
        if teams_repo.get_by_name(db, req.name) is not None:
            raise Conflict(f"team {req.name!r} already exists")
        row = teams_repo.create(db, req.name, ctx.now())
        record(ctx, db, "team.created", target=row["id"])
    return c.TeamOut(team=_team(row))


def list_teams(req: c.Empty, ctx: Context) -> c.TeamList:
    with ctx.store.read() as db:
        rows = teams_repo.list_all(db, None if ctx.principal.operator else [ctx.principal.team_id])
    return c.TeamList(teams=[_team(r) for r in rows])


def create_key(req: c.KeyCreate, ctx: Context) -> c.KeyCreated:
    if ctx.issuer is None:
        raise Forbidden("this server process cannot sign keys")
    if ctx.principal.project_id is not None:
        raise Forbidden("a project-pinned key cannot create keys")
    now = ctx.now()
    expires = req.expires_at_epoch
    if req.expires_days is not None:
        if expires is not None:
            raise Invalid("$.expiresDays", "give expiresDays or expiresAtEpoch, not both")
        expires = now + int(req.expires_days * 86_400_000)
    if expires is not None and expires <= now:
        raise Invalid("$.expiresAtEpoch", "the expiry is in the past")
    scopes = sorted(set(req.scopes))
    with ctx.store.write() as db:
        team = target_team(ctx, db, req.team)
        project_id = None
        if req.project or req.project_id:
            prow = (projects_repo.get(db, team["id"], req.project_id) if req.project_id
                    else projects_repo.get_by_name(db, team["id"], req.project))
            if prow is None:
                if req.project_id:
                    raise NotFound(f"project {req.project_id} not found")
                prow = projects_repo.create(db, team["id"], req.project, now)
            project_id = prow["id"]
        jti = new_id("key")
        token = ctx.issuer.issue(jti=jti, team_id=team["id"], project_id=project_id, scopes=scopes,
                                 expires_at=expires)
        row = keys_repo.insert(db, jti=jti, name=req.name, team_id=team["id"], project_id=project_id,
                               scopes=scopes, token=token, created_at=now, expires_at=expires)
        record(ctx, db, "key.created", target=jti, detail={"team": team["id"], "scopes": scopes})
    return c.KeyCreated(key=_key(row), token=token)


def list_keys(req: c.KeyListIn, ctx: Context) -> c.KeyList:
    with ctx.store.read() as db:
        team_id = None if (req.team is None and ctx.principal.operator) else target_team(ctx, db, req.team)["id"]
        rows = keys_repo.list_for(db, team_id)
    return c.KeyList(keys=[_key(r) for r in rows])


def revoke_key(req: c.ById, ctx: Context) -> c.KeyOut:
    with ctx.store.write() as db:
        row = keys_repo.get(db, req.id)
        if row is None or (row["team_id"] != ctx.principal.team_id and not ctx.principal.operator):
            raise NotFound(f"key {req.id} not found")
        keys_repo.revoke(db, req.id, ctx.now())
        record(ctx, db, "key.revoked", target=req.id)
        row = keys_repo.get(db, req.id)
    return c.KeyOut(key=_key(row))


