# SPDX-License-Identifier: Apache-2.0
"""Replay Claude Code transcripts (`~/.claude/projects/**/<session>.jsonl`) as events.

The lines go through the same ingest path as live hooks (so the same redaction, distiller and
per-session order apply): a typed user prompt becomes a `prompt` event, a `tool_use` block joined
with its `tool_result` becomes a `tool_use` event whose idempotency key is the tool_use id (the
very key the live hook uses, so a session seen live is not doubled), and each session gets a
`session_end` so its summary is written. Lines are de-duplicated by `uuid`; unknown line types
are skipped; a line that does not parse is counted and reported, never fatal.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from . import contracts as c
from . import events
from .context import Context
from .import_common import Report, split_lines

BATCH = 500
MAX_RESULT_CHARS = 8_000


def _epoch(ts: Any) -> int | None:
    if not isinstance(ts, str):
        return None
    try:
        return int(datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


def _result_text(content: Any) -> str:
    if isinstance(content, str):
        return content[:MAX_RESULT_CHARS]
    if isinstance(content, list):
        return "\n".join(b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text")[
            :MAX_RESULT_CHARS]
    return ""


class _Replay:
    def __init__(self, ctx: Context, report: Report, project: str | None, since: int | None):
        self.ctx, self.report, self.project, self.since = ctx, report, project, since
        self.seen: set[str] = set()
        self.tool_uses: dict[str, tuple[dict, dict]] = {}  # tool_use id -> (block, line)
        self.sessions: dict[str, dict] = {}  # session id -> the first line's fields
        self.batch: list[dict[str, Any]] = []

    def base(self, line: dict) -> dict[str, Any]:
        sid = str(line.get("sessionId"))
        first = self.sessions.setdefault(sid, {"cwd": line.get("cwd"), "at": _epoch(line.get("timestamp"))})
        project = self.project or os.path.basename(str(first.get("cwd") or "").rstrip("/")) or "default"
        out = {"project": project, "contentSessionId": sid, "platformSource": "claude-code"}
        at = _epoch(line.get("timestamp"))
        if at is not None:
            out["occurredAtEpoch"] = at
            first["last"] = max(first.get("last") or 0, at)
        return out

    def emit(self, event: dict[str, Any]) -> None:
        self.batch.append(event)
        if len(self.batch) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.batch:
            return
        if self.report.dry_run:  # what would be sent; nothing is written
            for _ in self.batch:
                self.report.count("events", True)
            self.batch = []
            return
        out = events.ingest_batch(c.EventBatchIn(events=self.batch), self.ctx)
        for item in out.results:
            if item.error is not None:
                self.report.error({"event": "batch"}, item.error.message)
            else:
                self.report.count("events", not item.duplicate)
        self.batch = []

    def line(self, n: int, raw: bytes) -> None:
        try:
            line = json.loads(raw)
        except ValueError as exc:
            self.report.error({"line": n}, f"not JSON: {exc}")
            return
        if not isinstance(line, dict):
            self.report.error({"line": n}, "not a JSON object")
            return
        kind = line.get("type")
        if kind not in ("user", "assistant"):
            self.report.count("skipped lines", False)
            return  # summary, system, file-history-snapshot, queue-operation, and types to come
        uuid = line.get("uuid")
        if uuid in self.seen:
            self.report.count("duplicate lines", False)
            return
        if uuid:
            self.seen.add(uuid)
        if not line.get("sessionId"):
            self.report.error({"line": n}, "a user or assistant line without sessionId")
            return
        at = _epoch(line.get("timestamp"))
        if self.since is not None and at is not None and at < self.since:
            self.report.count("older than --since", False)
            return
        message = line.get("message") if isinstance(line.get("message"), dict) else {}
        content = message.get("content")
        agent = line.get("agentId") if line.get("isSidechain") else None
        if kind == "user" and isinstance(content, str):
            if not line.get("isMeta") and not line.get("isCompactSummary") and content.strip():
                self.emit({**self.base(line), "eventType": "prompt", "sourceEventId": f"transcript:{uuid}",
                           "payload": {"prompt": content, **({"agent_id": agent} if agent else {})}})
            return
        if not isinstance(content, list):
            return
        for block in content:
            if not isinstance(block, dict):
                continue
            if kind == "assistant" and block.get("type") == "tool_use" and block.get("id"):
                self.tool_uses[block["id"]] = (block, line)
            elif kind == "user" and block.get("type") == "tool_result" and block.get("tool_use_id"):
                found = self.tool_uses.pop(block["tool_use_id"], None)
                if found is None:
                    continue
                self.tool_event(found[0], found[1], line.get("toolUseResult", _result_text(block.get("content"))),
                                bool(block.get("is_error")), _result_text(block.get("content")))
            elif kind == "user" and block.get("type") == "text" and not line.get("isMeta"):
                text = block.get("text") or ""
                if text.strip() and not text.startswith("[Request interrupted"):
                    self.emit({**self.base(line), "eventType": "prompt", "sourceEventId": f"transcript:{uuid}",
                               "payload": {"prompt": text}})

    def tool_event(self, block: dict, line: dict, response: Any, is_error: bool, error_text: str) -> None:
        payload: dict[str, Any] = {"tool_name": block.get("name"), "tool_input": block.get("input") or {},
                                   "tool_response": response, "tool_use_id": block["id"]}
        if is_error:
            payload["error"] = error_text or "the tool failed"
        if line.get("isSidechain") and line.get("agentId"):
            payload["agent_id"] = line["agentId"]
        self.emit({**self.base(line), "eventType": "tool_use", "sourceEventId": block["id"], "payload": payload})

    def finish(self) -> None:
        for block, line in self.tool_uses.values():  # tool uses whose result never came
            self.tool_event(block, line, None, False, "")
        self.tool_uses.clear()
        for sid, first in self.sessions.items():
            end = {"project": self.project or os.path.basename(str(first.get("cwd") or "").rstrip("/")) or "default",
                   "contentSessionId": sid, "platformSource": "claude-code", "eventType": "session_end",
                   "sourceEventId": f"transcript:{sid}:end", "payload": {"reason": "imported"}}
            if first.get("last"):
                end["occurredAtEpoch"] = first["last"]
            self.emit(end)
        self.flush()


def import_transcripts(lines: Iterable[bytes], ctx: Context, report: Report, project: str | None,
                       since: int | None) -> None:
    replay = _Replay(ctx, report, project, since)
    for n, raw in enumerate(split_lines(lines), start=1):
        if raw.strip():
            replay.line(n, raw)
    replay.finish()
