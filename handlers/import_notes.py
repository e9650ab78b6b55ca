# SPDX-License-Identifier: Apache-2.0
"""Import notes kept by other tools: the MCP reference memory server's `memory.jsonl` (entities
with observations, and relations) and folders of Markdown (a basic-memory project, CLAUDE.md and
AGENTS.md files). Each entity, note or section becomes one memory whose id comes from its name or
path, so a re-run adds nothing."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from claude_mem.storage.memories import NewMemory

from .context import Context
from .import_common import MemoryWriter, Projects, Report, split_lines, text, texts

LIMIT = 16_000
SECTION_CHARS = 4_000  # a note longer than this is split at its `## ` headings
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)


def import_mcp_memory(lines: Iterable[bytes], ctx: Context, projects: Projects, report: Report, db: Any) -> None:
    entities: dict[str, dict[str, Any]] = {}
    relations: list[tuple[str, str, str]] = []
    for n, raw in enumerate(split_lines(lines), start=1):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw)
            if not isinstance(item, dict):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            report.error({"line": n}, f"not JSON: {exc}")
            continue
        if item.get("type") == "entity" and isinstance(item.get("name"), str) and item["name"].strip():
            entity = entities.setdefault(item["name"], {"entityType": item.get("entityType"), "observations": []})
            entity["observations"] += [o for o in item.get("observations") or [] if isinstance(o, str)]
        elif item.get("type") == "relation" and all(isinstance(item.get(k), str) for k in ("from", "to")):
            relations.append((item["from"], str(item.get("relationType") or "relates to"), item["to"]))
        else:
            report.error({"line": n}, "neither an entity (type, name) nor a relation (type, from, to)")
    project_id = projects.id_for(db, None)
    writer = MemoryWriter(ctx, db, report)
    for name, entity in entities.items():
        links = [f"{a} {rel} {b}" for a, rel, b in relations if name in (a, b)]
        observations = texts(entity["observations"], 2000)
        kind = str(entity.get("entityType") or "entity")[:60]
        narrative = "\n".join(f"- {o}" for o in observations) or name
        writer.add(f"mcp-memory:{name}", NewMemory(
            project_id=project_id, kind="note", title=text(f"{name} ({kind})", 160),
            narrative=text(narrative, LIMIT), facts=observations + texts(links, 500), concepts=[kind],
            metadata={"source": "mcp-memory", "entity": name, "entityType": kind}, created_at=ctx.now()),
            id_at=0)
    writer.flush()


def _sections(body: str, fallback: str) -> list[tuple[str, str]]:
    """(title, text) pieces of a note: the whole note when short, else one per `##` section."""
    lines = body.splitlines()
    first = next((HEADING.match(ln) for ln in lines if HEADING.match(ln)), None)
    title = first.group(2) if first and len(first.group(1)) == 1 else fallback
    if len(body) <= SECTION_CHARS:
        return [(title, body)]
    out: list[tuple[str, list[str]]] = [(title, [])]
    for ln in lines:
        m = HEADING.match(ln)
        if m and len(m.group(1)) == 2:
            out.append((f"{title}: {m.group(2)}", []))
        out[-1][1].append(ln)
    return [(t, "\n".join(chunk)) for t, chunk in out if "\n".join(chunk).strip()]


def import_markdown(lines: Iterable[bytes], ctx: Context, projects: Projects, report: Report, db: Any) -> None:
    """Lines of `{"path", "text"}`, one per Markdown file."""
    project_id = projects.id_for(db, None)
    writer = MemoryWriter(ctx, db, report)
    for n, raw in enumerate(split_lines(lines), start=1):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw)
            path, body = item["path"], item["text"]
            if not isinstance(path, str) or not isinstance(body, str) or not path.strip():
                raise ValueError("path and text must be strings")
        except (ValueError, KeyError, TypeError) as exc:
            report.error({"line": n}, f"expected {{\"path\", \"text\"}}: {exc}")
            continue
        meta = FRONT_MATTER.match(body)
        if meta:
            body = body[meta.end():]
        name = path.rsplit("/", 1)[-1].removesuffix(".md").removesuffix(".markdown")
        for i, (title, section) in enumerate(_sections(body, name)):
            if not section.strip():
                continue
            writer.add(f"markdown:{path}#{i}", NewMemory(
                project_id=project_id, kind="note", title=text(title, 160), narrative=text(section, LIMIT),
                files_read=[path], concepts=["markdown-note"],
                metadata={"source": "markdown", "path": path, "section": i}, created_at=ctx.now()),
                kind="notes", id_at=0)
    writer.flush()
