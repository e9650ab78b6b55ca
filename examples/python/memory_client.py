#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A plain agent over REST in Python (standard library only): record events, search, get context.

Copy this file into your agent. Usage as a demo:
    CLAUDE_MEM_URL=http://127.0.0.1:37777 [CLAUDE_MEM_API_KEY=...] python3 memory_client.py [project]
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid
from typing import Any


class MemoryClient:
    def __init__(self, url: str | None = None, api_key: str | None = None, timeout: float = 5.0):
        self.url = (url or os.environ.get("CLAUDE_MEM_URL") or "http://127.0.0.1:37777").rstrip("/")
        self.api_key = api_key if api_key is not None else os.environ.get("CLAUDE_MEM_API_KEY")
        self.timeout = timeout

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(), headers=headers,
                                     method="POST")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:  # the server names the field that was wrong
            err = json.loads(exc.read() or b"{}")
            raise RuntimeError(f"{exc.code} {err.get('error')}: {err.get('message')} {err.get('issues', '')}") from None

    def record(self, project: str, session: str, event_type: str, payload: dict[str, Any],
               source_event_id: str | None = None, platform: str = "python") -> dict[str, Any]:
        """One event; replaying the same `source_event_id` is answered with the first event."""
        return self._post("/v1/events", {
            "project": project, "contentSessionId": session, "platformSource": platform,
            "eventType": event_type, "payload": payload, "occurredAtEpoch": int(time.time() * 1000),
            "sourceEventId": source_event_id or f"{session}:{uuid.uuid4()}"})

    def search(self, query: str, project: str | None = None, limit: int = 10, mode: str = "hybrid") -> list[dict]:
        body: dict[str, Any] = {"query": query, "limit": limit, "mode": mode}
        if project:
            body["project"] = project
        return self._post("/v1/search", body)["results"]

    def context(self, project: str, query: str | None = None, token_budget: int = 2000) -> str:
        body: dict[str, Any] = {"project": project, "tokenBudget": token_budget}
        if query:
            body["query"] = query
        return self._post("/v1/context", body)["context"]

    def remember(self, project: str, text: str, title: str = "") -> dict[str, Any]:
        return self._post("/v1/memories", {"project": project, "narrative": text, "title": title})["memory"]


def main() -> int:
    project = sys.argv[1] if len(sys.argv) > 1 else "python-demo"
    client = MemoryClient()
    session = f"py-{uuid.uuid4()}"
    client.record(project, session, "prompt", {"prompt": "Why does the nightly import job time out?"}, f"{session}:p")
    client.record(project, session, "tool_use", {
        "tool_name": "Bash", "tool_input": {"command": "python jobs/import.py --dry-run"},
        "tool_response": {"stdout": "", "stderr": "TimeoutError: upstream API took 31s", "exit_code": 1}},
        f"{session}:t1")
    client.record(project, session, "session_end", {"reason": "exit"}, f"{session}:end")
    client.remember(project, "The nightly import needs a 60 s timeout: the upstream API is slow at 02:00.",
                    title="Import job timeout")
    hits: list[dict] = []
    for _ in range(50):  # distillation runs in the background
        hits = client.search("import timeout", project=project)
        if len(hits) >= 2:
            break
        time.sleep(0.2)
    for hit in hits:
        print(f"{hit['id']}  {hit['score']:.3f}  {hit['title']}")
    print(client.context(project, query="import timeout", token_budget=600))
    return 0


if __name__ == "__main__":
    sys.exit(main())
