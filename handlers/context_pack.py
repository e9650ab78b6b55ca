# SPDX-License-Identifier: Apache-2.0
"""The context pack: Markdown for the start of a session, never over its token budget.

Sections in a fixed order (recent session summaries, the memories most relevant to the query or
files, a compact index of recent memories, a footer on fetching details); the same memories give
the same text, so prompt caches hit. Tokens are estimated as characters / 4, rounded up.
"""

from __future__ import annotations

import math
import time
from typing import Any

from claude_mem.storage import memories as memories_repo
from claude_mem.storage.memories import Filters

from . import contracts as c
from .audit import record
from .context import Context
from .scoping import resolve_project
from .search import run_search

FOOTER = ("Fetch a memory in full with `GET /v1/memories/{id}` (MCP: `get_observations`); "
          "search with `POST /v1/search` (MCP: `memory_search`).")


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def _day(epoch_ms: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(epoch_ms / 1000))


def _minute(epoch_ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(epoch_ms / 1000))


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class _Budget:
    def __init__(self, tokens: int):
        self.chars = tokens * 4
        self.lines: list[str] = []
        self.used = 0

    def add(self, line: str, reserve: int = 0) -> bool:
        cost = len(line) + 1
        if self.used + cost + reserve > self.chars:
            return False
        self.lines.append(line)
        self.used += cost
        return True


def build_context(req: c.ContextIn, ctx: Context) -> c.ContextOut:
    budget_tokens = req.token_budget or ctx.settings.context_tokens
    team = ctx.principal.team_id
    with ctx.store.read() as db:  # a snapshot: the pack never holds the write lock while it searches
        project = resolve_project(ctx, db, name=req.project, project_id=req.project_id)
        summaries = memories_repo.recent(db, team, Filters(project_ids=[project["id"]], kinds=["summary"]), 3)
        relevant: list[Any] = []
        if req.query or req.files:
            hits, _ = run_search(ctx, db, c.SearchIn(query=req.query or "", project_id=project["id"],
                                                       files=req.files, limit=8), snippets=False)
            relevant = memories_repo.get_many(db, team, [h.id for h in hits])
        recent = memories_repo.recent(db, team, Filters(project_ids=[project["id"]],
                                                        kinds=["observation", "decision", "note"]), 40)
    text, ids = _render(project["name"], summaries, relevant, recent, budget_tokens)
    with ctx.store.write() as db:
        record(ctx, db, "memory.served", count=len(ids), detail={"via": "context"})
    return c.ContextOut(context=text, tokens=estimate_tokens(text), memory_ids=ids)


def _render(project: str, summaries: list[Any], relevant: list[Any], recent: list[Any],
            budget_tokens: int) -> tuple[str, list[str]]:
    footer = f"\n{FOOTER}"
    b = _Budget(budget_tokens)
    reserve = len(footer) + 1
    ids: list[str] = []
    if not b.add(f"# Memory: {project}", reserve):
        return "", []
    if not (summaries or relevant or recent):
        b.add("No memories yet for this project.", reserve)
    if summaries:
        b.add("\n## Recent sessions", reserve)
        for s in summaries:
            line = f"- {_day(s['created_at'])} `{s['id']}` {_one_line(s['title'], 120)}"
            detail = _one_line(s["narrative"], 400)
            if b.add(line, reserve):
                ids.append(s["id"])
                b.add(f"  {detail}", reserve)
    if relevant:
        b.add("\n## Relevant", reserve)
        for m in relevant:
            line = (f"- `{m['id']}` [{m['type'] or m['kind']}] {_one_line(m['title'], 120)}: "
                    f"{_one_line(m['narrative'], 240)}")
            if b.add(line, reserve) and m["id"] not in ids:
                ids.append(m["id"])
    shown = set(ids)
    index = [m for m in recent if m["id"] not in shown]
    if index:
        b.add("\n## Recent memories (id, time UTC, type, title)", reserve)
        for m in index:
            line = f"- `{m['id']}` {_minute(m['created_at'])} {m['type'] or m['kind']} {_one_line(m['title'], 100)}"
            if not b.add(line, reserve):
                break
            ids.append(m["id"])
    b.add(footer.lstrip("\n") if b.lines and b.lines[-1] == "" else footer, 0)
    return "\n".join(b.lines).strip() + "\n", ids
