# SPDX-License-Identifier: Apache-2.0
"""`claude-mem hook <event>`: Claude Code's hooks, on the fast path.

Standard library only (no litestar, dramatiq, redis, mcp, not even cyclopts): it reads the hook
JSON on stdin, posts it to the server and prints what Claude Code expects. It never blocks the
agent: short timeouts, exit 0 when the server is away (a stderr line), and after repeated failures
a warning (on SessionStart also shown to the user).
"""

from __future__ import annotations

import json
import os
import sys
import time

from .http_post import HTTPFailure, post_json
from .project import project_for

EVENTS = ("session-start", "user-prompt-submit", "post-tool-use", "post-tool-use-failure", "stop",
          "subagent-stop", "pre-compact", "session-end")
DEFAULT_URL = "http://127.0.0.1:37777"
WARN_AFTER = 3
# SessionEnd gets 1.5 s from Claude Code by default; the others are not in such a hurry, but
# nothing here should hold the agent for long.
TIMEOUTS = {"session-start": 5.0, "session-end": 1.0}
DEFAULT_TIMEOUT = 2.0
TOOL_FIELDS = ("tool_name", "tool_input", "tool_response", "tool_use_id", "error", "is_interrupt",
               "duration_ms", "cwd", "agent_id", "agent_type", "prompt_id")


class HookError(Exception):
    pass


def _state_path() -> str:
    return os.environ.get("CLAUDE_MEM_HOOK_STATE") or os.path.join(
        os.path.expanduser("~"), ".claude-mem", "hook-state.json")


def _failures(add: bool) -> int:
    """Count consecutive failures (reset on success); the count after this call."""
    path = _state_path()
    try:
        with open(path, encoding="utf-8") as f:
            count = int(json.load(f).get("failures", 0))
    except (OSError, ValueError, AttributeError):
        count = 0
    new = count + 1 if add else 0
    if new != count:
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                json.dump({"failures": new, "at": int(time.time())}, f)
        except OSError:
            pass
    return new


def _post(base: str, path: str, body: dict[str, object], timeout: float) -> dict[str, object]:
    headers = {"Accept": "application/json"}
    key = os.environ.get("CLAUDE_MEM_API_KEY")
    if key:
        headers["Authorization"] = f"Bearer {key}"
    try:
        status, raw = post_json(base.rstrip("/") + path, body, headers, timeout)
    except HTTPFailure as exc:
        raise HookError(str(exc)) from None
    if status >= 300:
        raise HookError(f"{path} answered {status}: {raw[:300].decode('utf-8', 'replace')}")
    try:
        return json.loads(raw or b"{}")
    except ValueError:
        raise HookError(f"{path} answered something that is not JSON") from None


def event_for(name: str, data: dict[str, object]) -> tuple[str, dict[str, object]] | None:
    """The (eventType, payload) a hook becomes; None for nothing to record."""
    if name in ("post-tool-use", "post-tool-use-failure"):
        return "tool_use", {k: data[k] for k in TOOL_FIELDS if k in data}
    if name == "user-prompt-submit":
        return "prompt", {"prompt": data.get("prompt", ""), "prompt_id": data.get("prompt_id")}
    if name in ("stop", "subagent-stop"):
        if data.get("stop_hook_active"):
            return None
        payload = {"last_assistant_message": data.get("last_assistant_message", "")}
        for k in ("agent_id", "agent_type"):
            if data.get(k):
                payload[k] = data[k]
        return "assistant_message", payload
    if name == "pre-compact":
        return "assistant_message", {"trigger": "pre_compact", "compact_trigger": data.get("trigger")}
    if name == "session-start":
        return "session_start", {"source": data.get("source"), "model": data.get("model")}
    if name == "session-end":
        return "session_end", {"reason": data.get("reason")}
    return None


def run(name: str, stdin: str, out: object = sys.stdout, err: object = sys.stderr) -> int:
    if name not in EVENTS:
        print(f"claude-mem hook: unknown event {name!r}; one of: {', '.join(EVENTS)}", file=err)
        return 2
    try:
        data = json.loads(stdin) if stdin.strip() else {}
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
    except ValueError as exc:
        print(f"claude-mem hook: the hook input is not JSON ({exc}); nothing recorded", file=err)
        return 0
    base = os.environ.get("CLAUDE_MEM_URL") or DEFAULT_URL
    timeout = float(os.environ.get("CLAUDE_MEM_HOOK_TIMEOUT") or TIMEOUTS.get(name, DEFAULT_TIMEOUT))
    project = project_for(data.get("cwd") or None)
    session = data.get("session_id")
    context = None
    try:
        mapped = event_for(name, data)
        if mapped is not None and session:
            event_type, payload = mapped
            body: dict[str, object] = {"project": project, "contentSessionId": session, "eventType": event_type,
                                    "platformSource": "claude-code", "occurredAtEpoch": int(time.time() * 1000),
                                    "payload": payload}
            if data.get("tool_use_id") and event_type == "tool_use":
                body["sourceEventId"] = data["tool_use_id"]
            _post(base, "/v1/events", body, timeout)
        if name == "session-start":
            context = _post(base, "/v1/context", {"project": project}, timeout).get("context", "")
        _failures(add=False)
    except HookError as exc:
        count = _failures(add=True)
        print(f"claude-mem hook: {exc}", file=err)
        if count >= WARN_AFTER:
            warning = (f"claude-mem: the memory server failed {count} times in a row ({exc}); "
                       "run `claude-mem server status`")
            print(warning, file=err)
            if name == "session-start":
                out.write(json.dumps({"systemMessage": warning}) + "\n")
        return 0
    if name == "session-start":
        out.write(json.dumps({"hookSpecificOutput": {"hookEventName": "SessionStart",
                                                     "additionalContext": context or ""}}) + "\n")
    return 0


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] in ("-h", "--help"):
        print("usage: claude-mem hook <event>\n\nReads a Claude Code hook's JSON on stdin. Events: "
              + ", ".join(EVENTS), file=sys.stderr if argv and argv[0] not in ("-h", "--help") else sys.stdout)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    try:
        stdin = sys.stdin.read()
    except (OSError, UnicodeDecodeError):
        stdin = ""
    return run(argv[0], stdin)
