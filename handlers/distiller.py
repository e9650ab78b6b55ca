# SPDX-License-Identifier: Apache-2.0
"""The default distiller: deterministic, offline rules that turn one event into memory drafts.

It is pure: it sees the event and what the session already remembered, and returns drafts; the
drain handler writes them. Rules per tool follow Claude Code's hook payloads.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

from .adapters import claude_code_input, claude_code_tool

MAX_NARRATIVE = 4_000
MAX_FACT = 500


@dataclass
class Draft:
    kind: str
    title: str
    narrative: str
    type: str | None = None
    subtitle: str = ""
    facts: list[str] = field(default_factory=list)
    concepts: list[str] = field(default_factory=list)
    files_read: list[str] = field(default_factory=list)
    files_modified: list[str] = field(default_factory=list)


@dataclass
class Prior:
    """What the session remembered before this event (title, kind, type, files)."""

    kind: str
    type: str | None
    title: str
    narrative: str
    files_read: list[str]
    files_modified: list[str]
    facts: list[str]


def _s(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _clip(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _first_line(text: str, limit: int = 120) -> str:
    for line in text.strip().splitlines():
        if line.strip():
            return _clip(line.strip(), limit)
    return ""


def _base(path: str) -> str:
    return os.path.basename(path.rstrip("/")) or path


def _lines(text: str) -> int:
    return text.count("\n") + 1 if text else 0


def _error_lines(text: str, limit: int = 5) -> list[str]:
    pat = re.compile(r"(error|exception|traceback|failed|fatal|not found|denied|cannot|panic)", re.I)
    hits = [ln.strip() for ln in text.splitlines() if pat.search(ln)]
    return [_clip(h, MAX_FACT) for h in hits[:limit]]


def _response_text(resp: Any) -> str:
    if isinstance(resp, str):
        return resp
    if isinstance(resp, list):
        return "\n".join(_response_text(r) for r in resp)
    if isinstance(resp, dict):
        if isinstance(resp.get("content"), list):
            return "\n".join(_s(c.get("text")) for c in resp["content"] if isinstance(c, dict))
        for key in ("output", "result", "text", "stdout", "content"):
            if isinstance(resp.get(key), str):
                return resp[key]
    return ""


# -- tool rules --------------------------------------------------------------------------------

def _edit(tool: str, inp: dict, resp: Any) -> Draft:
    path = _s(inp.get("file_path") or inp.get("notebook_path")
              or (resp.get("filePath") if isinstance(resp, dict) else ""))
    edits = inp.get("edits") if isinstance(inp.get("edits"), list) else [inp]
    facts, removed, added = [], 0, 0
    for e in edits:
        if not isinstance(e, dict):
            continue
        old, new = _s(e.get("old_string")), _s(e.get("new_string") or e.get("new_source"))
        removed += _lines(old)
        added += _lines(new)
        if new and _first_line(new):
            facts.append(_clip(f"now: {_first_line(new, 200)}", MAX_FACT))
        if old and _first_line(old):
            facts.append(_clip(f"was: {_first_line(old, 200)}", MAX_FACT))
    narrative = f"{tool} of {path}: {len(edits)} change(s), -{removed} +{added} lines."
    if facts:
        narrative += "\n" + "\n".join(facts[:6])
    return Draft(kind="observation", type="change", title=f"Edited {_base(path)}",
                 subtitle=path, narrative=_clip(narrative, MAX_NARRATIVE), facts=facts[:10],
                 concepts=["what-changed"], files_modified=[path] if path else [])


def _write(inp: dict, resp: Any) -> Draft:
    path = _s(inp.get("file_path") or (resp.get("filePath") if isinstance(resp, dict) else ""))
    content = _s(inp.get("content"))
    created = isinstance(resp, dict) and resp.get("type") == "create"
    verb = "Created" if created else "Wrote"
    facts = [f"{_lines(content)} lines written to {path}"]
    head = _first_line(content, 200)
    if head:
        facts.append(f"starts with: {head}")
    return Draft(kind="observation", type="feature" if created else "change",
                 title=f"{verb} {_base(path)}", subtitle=path,
                 narrative=_clip(f"{verb} {path} ({_lines(content)} lines).\n{content[:1500]}", MAX_NARRATIVE),
                 facts=facts, concepts=["what-changed"], files_modified=[path] if path else [])


def _read(inp: dict, resp: Any) -> Draft:
    path = _s(inp.get("file_path"))
    file = resp.get("file") if isinstance(resp, dict) and isinstance(resp.get("file"), dict) else {}
    content = _s(file.get("content"))
    total = file.get("totalLines") or file.get("numLines")
    facts = [f"{total} lines"] if total else []
    return Draft(kind="observation", type="discovery", title=f"Read {_base(path)}", subtitle=path,
                 narrative=_clip(f"Read {path}.\n{content[:1000]}", MAX_NARRATIVE), facts=facts,
                 concepts=["how-it-works"], files_read=[path] if path else [])


_CHANGE_CMD = re.compile(r"^\s*(git\s+(commit|merge|rebase|revert|cherry-pick|mv|rm)|mv|rm|cp|mkdir|"
                         r"pip\s+install|npm\s+(install|i)\b|yarn\s+add|cargo\s+add|sed\s+-i|"
                         r"chmod|ln)\b")


def _bash(inp: dict, resp: Any, error: str | None) -> Draft:
    cmd = _s(inp.get("command"))
    desc = _s(inp.get("description"))
    out = err = ""
    if isinstance(resp, dict):
        out, err = _s(resp.get("stdout")), _s(resp.get("stderr"))
    elif resp is not None:
        out = _response_text(resp)
    failed = bool(error) or bool(isinstance(resp, dict) and resp.get("interrupted"))
    facts = [_clip(f"command: {cmd}", MAX_FACT)]
    if error:
        facts.append(_clip(f"failed: {_first_line(error, 300)}", MAX_FACT))
        facts += _error_lines(error)
    if err.strip():
        facts += _error_lines(err) or [_clip(f"stderr: {_first_line(err, 300)}", MAX_FACT)]
    if out.strip() and not failed:
        facts.append(_clip(f"output: {_first_line(out, 300)}", MAX_FACT))
    facts = list(dict.fromkeys(facts))
    title = desc or f"Ran {_first_line(cmd, 80)}"
    if failed:
        title = f"Failed: {_first_line(cmd, 80)}"
    body = f"$ {cmd}\n" + (f"{desc}\n" if desc else "")
    body += (error or "") + ("\n" if error else "") + out[:1500] + ("\n" + err[:800] if err else "")
    kind_type = "change" if _CHANGE_CMD.match(cmd) and not failed else "discovery"
    return Draft(kind="observation", type=kind_type, title=_clip(title, 160),
                 subtitle=_clip(cmd, 300), narrative=_clip(body, MAX_NARRATIVE), facts=facts[:10],
                 concepts=["problem-solution"] if failed else ["how-it-works"])


def _search_tool(tool: str, inp: dict, resp: Any) -> Draft:
    pattern = _s(inp.get("pattern") or inp.get("query") or inp.get("path"))
    files: list[str] = []
    if isinstance(resp, dict) and isinstance(resp.get("filenames"), list):
        files = [_s(f) for f in resp["filenames"][:50]]
    where = _s(inp.get("path"))
    title = f"{'Listed' if tool == 'LS' else 'Searched for'} {_clip(pattern, 80)}"
    n = resp.get("numFiles") if isinstance(resp, dict) else None
    facts = [f"{n if n is not None else len(files)} file(s) matched"] + [f"match: {f}" for f in files[:5]]
    narrative = f"{tool} {pattern}" + (f" in {where}" if where else "") + "\n" + "\n".join(files[:30])
    return Draft(kind="observation", type="discovery", title=title, subtitle=where,
                 narrative=_clip(narrative, MAX_NARRATIVE), facts=facts, concepts=["how-it-works"],
                 files_read=files)


def _web(tool: str, inp: dict, resp: Any) -> Draft:
    target = _s(inp.get("url") or inp.get("query"))
    text = _response_text(resp)
    return Draft(kind="observation", type="discovery", title=f"{tool}: {_clip(target, 120)}",
                 subtitle=target, narrative=_clip(f"{_s(inp.get('prompt'))}\n{text}", MAX_NARRATIVE),
                 concepts=["how-it-works"])


def _generic(tool: str, inp: dict, resp: Any, error: str | None) -> Draft:
    title = tool
    if tool.startswith("mcp__"):
        _, _, rest = tool.partition("mcp__")
        server, _, name = rest.partition("__")
        title = f"Called {name or server} on {server}" if name else f"Called {server}"
    elif tool == "Task":
        title = f"Delegated: {_clip(_s(inp.get('description') or inp.get('prompt')), 120)}"
    args = ", ".join(f"{k}={_clip(_s(v), 80)}" for k, v in list(inp.items())[:6])
    text = _response_text(resp)
    facts = [_clip(f"failed: {_first_line(error, 300)}", MAX_FACT)] if error else []
    return Draft(kind="observation", type="discovery", title=_clip(title, 160), subtitle=_clip(args, 300),
                 narrative=_clip(f"{tool}({args})\n{error or ''}\n{text}", MAX_NARRATIVE), facts=facts,
                 concepts=["how-it-works"])


FOLDED_TOOLS = frozenset({"TodoWrite", "TodoRead", "ListMcpResourcesTool", "SlashCommand", "Skill",
                          "AskUserQuestion", "ExitPlanMode"})


def distil_tool_use(payload: dict, prior: list[Prior]) -> list[Draft]:
    tool = claude_code_tool(_s(payload.get("tool_name") or payload.get("toolName") or payload.get("tool")))
    inp = payload.get("tool_input") or payload.get("toolInput") or payload.get("args") or {}
    inp = claude_code_input(inp) if isinstance(inp, dict) else {"input": inp}
    resp = payload.get("tool_response", payload.get("toolResponse"))
    error = payload.get("error")
    error = _s(error) if error else None
    if not tool or tool in FOLDED_TOOLS:
        return []
    if tool in ("Edit", "MultiEdit", "NotebookEdit"):
        draft = _edit(tool, inp, resp)
    elif tool == "Write":
        draft = _write(inp, resp)
    elif tool == "Read":
        draft = _read(inp, resp)
        if any(p.files_read == draft.files_read and p.title == draft.title for p in prior):
            return []  # the same file read again this session: folded
    elif tool == "Bash":
        draft = _bash(inp, resp, error)
    elif tool in ("Grep", "Glob", "LS"):
        draft = _search_tool(tool, inp, resp)
    elif tool in ("WebFetch", "WebSearch"):
        draft = _web(tool, inp, resp)
    else:
        draft = _generic(tool, inp, resp, error)
    if error and tool != "Bash":
        draft.facts.insert(0, _clip(f"failed: {_first_line(error, 300)}", MAX_FACT))
    return [draft]


def distil_prompt(payload: dict) -> list[Draft]:
    text = _s(payload.get("prompt") or payload.get("text")).strip()
    if not text:
        return []  # empty after private-tag stripping: a private turn
    return [Draft(kind="observation", type=None, title=_clip("Request: " + _first_line(text, 150), 160),
                  narrative=_clip(text, MAX_NARRATIVE), concepts=["user-request"])]


def distil_summary(payload: dict, prior: list[Prior]) -> list[Draft]:
    """A session summary built from what the session remembered."""
    work = [p for p in prior if p.kind != "summary"]
    if not work:
        return []
    requests = [p.narrative for p in work if "Request: " in p.title[:9]]
    investigated = [p.title for p in work if p.type == "discovery"]
    completed = [p.title for p in work if p.type in ("change", "feature", "bugfix", "refactor")]
    learned = [f for p in work for f in p.facts if f.startswith(("failed:", "output:"))]
    read = list(dict.fromkeys(f for p in work for f in p.files_read))
    modified = list(dict.fromkeys(f for p in work for f in p.files_modified))
    last = _s(payload.get("last_assistant_message"))
    sections = []
    for label, items in (("Request", [_first_line(r, 200) for r in requests[:3]]),
                         ("Investigated", investigated[:12]), ("Learned", learned[:8]),
                         ("Completed", completed[:12]), ("Files read", read[:20]),
                         ("Files modified", modified[:20])):
        if items:
            sections.append(f"{label}:\n" + "\n".join(f"- {i}" for i in items))
    if last.strip():
        sections.append("Last message:\n" + _clip(last, 800))
    title = "Session: " + (_first_line(requests[0], 140) if requests else
                           (completed[0] if completed else investigated[0] if investigated else "work"))
    facts = [f"{len(completed)} change(s)", f"{len(investigated)} discovery(ies)"]
    return [Draft(kind="summary", type=None, title=_clip(title, 160), subtitle=f"{len(work)} memories",
                  narrative=_clip("\n\n".join(sections), MAX_NARRATIVE), facts=facts,
                  concepts=["session-summary"], files_read=read[:50], files_modified=modified[:50])]


def distil_note(payload: dict) -> list[Draft]:
    text = _s(payload.get("text") or payload.get("narrative") or payload.get("note")).strip()
    if not text:
        return []
    return [Draft(kind="note", type=None, title=_clip(_s(payload.get("title")) or _first_line(text, 120), 160),
                  narrative=_clip(text, MAX_NARRATIVE))]


def distil(event_kind: str, payload: dict, prior: list[Prior]) -> list[Draft]:
    """The drafts one event yields (none for events that only mark time)."""
    if event_kind == "tool_use":
        return distil_tool_use(payload, prior)
    if event_kind == "prompt":
        return distil_prompt(payload)
    if event_kind == "session_end":
        return distil_summary(payload, prior)
    if event_kind == "assistant_message" and not payload.get("agent_id"):
        # A turn ended (Stop) or the context is about to be compacted: the session's summary so
        # far, replacing the previous one. Claude Code does not fire SessionEnd on every exit.
        return distil_summary(payload, prior)
    if event_kind == "note":
        return distil_note(payload)
    return []
