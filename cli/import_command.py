# SPDX-License-Identifier: Apache-2.0
"""`claude-mem import ...`: turn local files into the body of one streaming import, with a progress
line on a terminal, and send it to the server (`CLAUDE_MEM_URL`) or run it on the local data dir."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import msgspec

from .invoke import LocalInvoker, RemoteInvoker, invoker

CHUNK = 1 << 20
SKIP_DIRS = {".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", "dist", "build"}


class Progress:
    """`importing 12.3 MB / 40.0 MB (31%)` on stderr, only when stderr is a terminal."""

    def __init__(self, total: int, label: str):
        self.total, self.label, self.done = total, label, 0
        self.enabled = sys.stderr.isatty()
        self._last = 0.0

    def advance(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if self.enabled and (now - self._last > 0.2 or self.done >= self.total):
            self._last = now
            pct = f" ({100 * self.done // self.total}%)" if self.total else ""
            print(f"\r{self.label} {self.done / 1e6:.1f} MB / {self.total / 1e6:.1f} MB{pct}", end="",
                  file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.enabled:
            print(file=sys.stderr)


def file_chunks(paths: list[Path], progress: Progress) -> Iterator[bytes]:
    """The files' bytes back to back, each ending with a newline (JSONL files)."""
    for path in paths:
        last = b"\n"
        with path.open("rb") as f:
            while chunk := f.read(CHUNK):
                progress.advance(len(chunk))
                last = chunk[-1:]
                yield chunk
        if last != b"\n":
            yield b"\n"


def transcript_files(root: Path, since_ms: int | None) -> list[Path]:
    """Session files and their subagents' files, oldest first; files untouched since `since` skipped."""
    if root.is_file():
        return [root]
    files = [p for p in root.rglob("*.jsonl") if p.is_file()]
    if since_ms is not None:
        files = [p for p in files if p.stat().st_mtime * 1000 >= since_ms]
    return sorted(files, key=lambda p: (p.stat().st_mtime, str(p)))


def markdown_lines(root: Path, progress: Progress) -> Iterator[bytes]:
    """One `{"path", "text"}` line per Markdown file under `root` (paths relative to it)."""
    files = [root] if root.is_file() else sorted(
        p for p in root.rglob("*") if p.suffix.lower() in (".md", ".markdown") and p.is_file()
        and not any(part in SKIP_DIRS or part.startswith(".") for part in p.relative_to(root).parts[:-1]))
    base = root.parent if root.is_file() else root
    for p in files:
        raw = p.read_bytes()
        progress.advance(len(raw))
        yield json.dumps({"path": str(p.relative_to(base)), "text": raw.decode("utf-8", "replace")}).encode() + b"\n"


def total_size(paths: Iterable[Path]) -> int:
    return sum(p.stat().st_size for p in paths)


def run(settings_loader: Any, req: Any, body: Iterator[bytes], progress: Progress,
        content_type: str = "application/x-ndjson") -> Any:
    inv = invoker(settings_loader)
    try:
        if isinstance(inv, RemoteInvoker):
            return inv.upload("import_data", req, body, content_type)
        return inv.call("import_data", msgspec.structs.replace(req, lines=body))
    finally:
        progress.close()
        if isinstance(inv, LocalInvoker):
            inv.close()


def summary(out: Any) -> list[str]:
    verb = "would import" if out.dry_run else "imported"
    lines = [f"{verb}: " + (", ".join(f"{n} {k}" for k, n in sorted(out.imported.items()) if n) or "nothing new")]
    skipped = ", ".join(f"{n} {k}" for k, n in sorted(out.skipped.items()) if n)
    if skipped:
        lines.append(f"skipped (already there, or nothing to keep): {skipped}")
    lines += [f"warning: {w}" for w in out.warnings]
    for e in out.errors:
        where = ", ".join(f"{k} {v}" for k, v in e.items() if k != "message")
        lines.append(f"error: {where}: {e['message']}")
    return lines


def since_epoch(value: str | None) -> int | None:
    if not value:
        return None
    from datetime import UTC, datetime
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        from claude_mem.handlers.errors import Invalid
        raise Invalid("$.since", f"expected a date like 2026-01-31, got {value!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def default_transcripts_dir() -> Path:
    return Path(os.environ.get("CLAUDE_CONFIG_DIR", Path.home() / ".claude")) / "projects"
