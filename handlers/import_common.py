# SPDX-License-Identifier: Apache-2.0
"""What every importer shares: the report, project resolution (with `old=new` maps), and a batched
memory writer whose ids come from the source record, so a second run adds nothing."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from claude_mem.storage import memories as memories_repo
from claude_mem.storage import projects as projects_repo
from claude_mem.storage.ids import stable_id
from claude_mem.storage.memories import NewMemory

from . import contracts as c
from .context import Context
from .errors import Invalid
from .redaction import clean_text

MAX_ERRORS = 100
BATCH = 1000


@dataclass
class Report:
    format: str
    dry_run: bool = False
    imported: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error_count: int = 0

    def count(self, kind: str, created: bool) -> None:
        target = self.imported if created else self.skipped
        target[kind] = target.get(kind, 0) + 1

    def error(self, where: dict[str, Any], message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({**where, "message": message[:300]})

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def out(self) -> c.ImportOut:
        if self.error_count > len(self.errors):
            self.warn(f"{self.error_count} errors in all; the first {len(self.errors)} are listed")
        return c.ImportOut(imported=self.imported, skipped=self.skipped, errors=self.errors,
                           warnings=self.warnings, format=self.format, dry_run=self.dry_run)


def split_lines(chunks: Iterable[bytes | str]) -> Iterator[bytes]:
    """Lines of a body that may arrive in chunks of any size (or as a file)."""
    buf = b""
    for chunk in chunks:
        buf += chunk.encode("utf-8") if isinstance(chunk, str) else chunk
        *lines, buf = buf.split(b"\n")
        yield from lines
    if buf:
        yield buf


def parse_project_map(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        old, sep, new = item.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise Invalid("$.projectMap", f"expected old=new, got {item!r}")
        out[old.strip()] = new.strip()
    return out


class Projects:
    """Project names from the source, mapped and created on first use in the caller's team."""

    def __init__(self, ctx: Context, mapping: dict[str, str], default: str | None):
        self.ctx, self.mapping, self.default = ctx, mapping, default
        self.ids: dict[str, str] = {}

    def id_for(self, db: Any, name: str | None) -> str:
        name = self.mapping.get(name or "", name) if name else None
        name = (self.default or name or "default").strip()[:200] or "default"
        if name not in self.ids:
            pinned = self.ctx.principal.project_id
            row = projects_repo.get_by_name(db, self.ctx.principal.team_id, name)
            if row is None:
                if pinned is not None:
                    raise Invalid("$.project", "this key is pinned to one project and cannot create others")
                row = projects_repo.create(db, self.ctx.principal.team_id, name, self.ctx.now())
            if pinned is not None and row["id"] != pinned:
                raise Invalid("$.project", f"this key is pinned to another project than {name!r}")
            self.ids[name] = row["id"]
        return self.ids[name]


def text(value: Any, limit: int) -> str:
    """Imported text as stored text: private tags stripped, secrets redacted, capped."""
    return clean_text(value if isinstance(value, str) else "" if value is None else str(value), limit)


def texts(values: Any, limit: int, count: int = 200) -> list[str]:
    if not isinstance(values, list):
        return []
    return [t for t in (text(v, limit) for v in values[:count]) if t.strip()]


class MemoryWriter:
    """Writes memories with stable ids in batches, vectors computed per batch."""

    def __init__(self, ctx: Context, db: Any, report: Report):
        self.ctx, self.db, self.report = ctx, db, report
        self.team = ctx.principal.team_id
        self.pending: list[Any] = []

    def add(self, key: str, m: NewMemory, kind: str = "memories", *, id_at: int | None = None) -> bool:
        """`id_at`: the time in the id when the record has no time of its own (0), so that the id
        stays the same on every run."""
        m.id = stable_id("mem", (m.created_at or 0) if id_at is None else id_at, self.team, key)
        if self.db.execute("select 1 from memories where id = ?", (m.id,)).fetchone():
            self.report.count(kind, False)
            return False
        row, created = memories_repo.insert(self.db, self.team, m, self.ctx.now())
        self.report.count(kind, created)
        if created:
            self.pending.append(row)
            if len(self.pending) >= BATCH:
                self.flush()
        return created

    def flush(self) -> None:
        if self.pending and self.ctx.embed is not None and memories_repo.has_vec(self.db):
            memories_repo.set_vectors(self.db, self.pending, self.ctx.embed)
        self.pending = []
