#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Codex CLI -> claude-mem server: Codex runs its `notify` program after each agent turn with one
JSON argument (`type: agent-turn-complete`, `thread-id`, `turn-id`, `cwd`, `input-messages`,
`last-assistant-message`). This posts the turn's prompts and the assistant's answer as events.

Standard library only; never fails the agent: a short timeout, exit 0 whatever happens.
Set up: see config.toml beside this file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request


def project_for(cwd: str) -> str:
    if os.environ.get("CLAUDE_MEM_PROJECT"):
        return os.environ["CLAUDE_MEM_PROJECT"]
    try:
        top = subprocess.run(["git", "-C", cwd, "rev-parse", "--show-toplevel"], capture_output=True, text=True,
                             timeout=2).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        top = ""
    return os.path.basename(top or cwd.rstrip("/")) or "default"


def events_for(turn: dict) -> list[dict]:
    thread, turn_id = turn.get("thread-id", "codex"), turn.get("turn-id", str(time.time_ns()))
    base = {"project": project_for(turn.get("cwd") or os.getcwd()), "contentSessionId": thread,
            "platformSource": "codex", "occurredAtEpoch": int(time.time() * 1000)}
    out = [{**base, "eventType": "prompt", "sourceEventId": f"codex:{thread}:{turn_id}:in:{i}",
            "payload": {"prompt": text}}
           for i, text in enumerate(turn.get("input-messages") or []) if isinstance(text, str) and text.strip()]
    if turn.get("last-assistant-message"):
        out.append({**base, "eventType": "assistant_message", "sourceEventId": f"codex:{thread}:{turn_id}:out",
                    "payload": {"last_assistant_message": turn["last-assistant-message"]}})
    return out


def main(argv: list[str]) -> int:
    try:
        turn = json.loads(argv[1]) if len(argv) > 1 else {}
        if turn.get("type") != "agent-turn-complete":
            return 0
        events = events_for(turn)
        if not events:
            return 0
        url = os.environ.get("CLAUDE_MEM_URL", "http://127.0.0.1:37777").rstrip("/") + "/v1/events/batch"
        headers = {"Content-Type": "application/json"}
        if os.environ.get("CLAUDE_MEM_API_KEY"):
            headers["Authorization"] = f"Bearer {os.environ['CLAUDE_MEM_API_KEY']}"
        req = urllib.request.Request(url, data=json.dumps({"events": events}).encode(), headers=headers,
                                     method="POST")
        with urllib.request.urlopen(req, timeout=float(os.environ.get("CLAUDE_MEM_TIMEOUT", "2"))):
            pass
    except Exception as exc:  # the agent must never notice a memory server problem
        print(f"claude-mem notify: {exc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
