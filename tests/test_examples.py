# SPDX-License-Identifier: Apache-2.0
"""The adapter examples in examples/ run against a live server, as a user would run them: their
events become memories that search finds and context packs carry."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support import LiveServer, wait_for

pytestmark = pytest.mark.e2e

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = LiveServer(tmp_path_factory.mktemp("examples") / "data")
    yield srv
    srv.stop()


def _env(server: LiveServer, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDE_MEM_")}
    return {**env, "CLAUDE_MEM_URL": server.base, **extra}


def _hits(server: LiveServer, query: str, project: str) -> list[dict]:
    status, body = server.call("POST", "/v1/search", {"query": query, "project": project, "mode": "fts"})
    assert status == 200, body
    return body["results"]


def test_curl_tour(server):
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    out = subprocess.run(["bash", str(EXAMPLES / "curl" / "tour.sh"), "curl-proj"], env=_env(server),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "src/http/retry.py" in out.stdout and "# Memory: curl-proj" in out.stdout
    assert any("retry.py" in h["title"] for h in _hits(server, "retry", "curl-proj"))


def test_python_client(server):
    out = subprocess.run([sys.executable, str(EXAMPLES / "python" / "memory_client.py"), "py-proj"],
                         env=_env(server), capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "Import job timeout" in out.stdout
    titles = [h["title"] for h in _hits(server, "import", "py-proj")]
    assert "Import job timeout" in titles and any("jobs/import.py" in t for t in titles)


def test_codex_notify(server, tmp_path):
    turn = {"type": "agent-turn-complete", "thread-id": "th-1", "turn-id": "tu-1", "cwd": str(tmp_path / "billing"),
            "input-messages": ["Round invoice totals half-up, not half-even"],
            "last-assistant-message": "Switched invoice rounding to ROUND_HALF_UP in invoice.py."}
    (tmp_path / "billing").mkdir()
    for _ in range(2):  # Codex may run notify again for the same turn: nothing is stored twice
        done = subprocess.run([sys.executable, str(EXAMPLES / "codex" / "notify.py"), json.dumps(turn)],
                              env=_env(server), capture_output=True, text=True, timeout=30)
        assert done.returncode == 0 and done.stdout == "", done.stderr
    wait_for(lambda: len(_hits(server, "invoice rounding", "billing")) >= 2, timeout=20)
    titles = sorted(h["title"] for h in _hits(server, "invoice rounding", "billing"))
    assert len(titles) == 2 and titles[0].startswith("Request: Round invoice") and titles[1].startswith("Session:")
    status, body = server.call("POST", "/v1/context", {"project": "billing"})
    assert "Round invoice totals" in body["context"]


def test_codex_notify_never_fails_the_agent(tmp_path):
    from support import free_port
    env = {**os.environ, "CLAUDE_MEM_URL": f"http://127.0.0.1:{free_port()}"}
    turn = {"type": "agent-turn-complete", "thread-id": "t", "turn-id": "u", "cwd": str(tmp_path),
            "input-messages": ["hello"]}
    for args in ([json.dumps(turn)], ["not json"], []):
        done = subprocess.run([sys.executable, str(EXAMPLES / "codex" / "notify.py"), *args], env=env,
                              capture_output=True, text=True, timeout=30)
        assert done.returncode == 0 and done.stdout == ""


HARNESS = """
const { ClaudeMem } = await import(process.argv[1]);
const hooks = await ClaudeMem({ directory: "/work/shop", worktree: "/work/shop" });
await hooks["chat.message"]({ sessionID: "ses_1", messageID: "msg_1" },
  { parts: [{ type: "text", text: "Cart totals must include the shipping fee" }] });
await hooks["tool.execute.after"](
  { tool: "edit", sessionID: "ses_1", callID: "call_1",
    args: { filePath: "src/cart/total.ts", oldString: "sum(items)", newString: "sum(items) + shipping" } },
  { title: "src/cart/total.ts", output: "Edit applied", metadata: {} });
await hooks["tool.execute.after"](
  { tool: "bash", sessionID: "ses_1", callID: "call_2", args: { command: "bun test cart" } },
  { title: "bun test cart", output: "3 pass, 0 fail", metadata: {} });
await hooks.event({ event: { type: "session.idle", properties: { sessionID: "ses_1" } } });
console.log("done");
"""


def test_opencode_plugin(server):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the OpenCode plugin is JavaScript")
    plugin = (EXAMPLES / "opencode" / "claude-mem.js").as_uri()
    done = subprocess.run([node, "--input-type=module", "-e", HARNESS, plugin], env=_env(server),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "done", done.stderr
    wait_for(lambda: len(_hits(server, "cart", "shop")) >= 3, timeout=20)
    hits = _hits(server, "cart", "shop")
    edit = next(h for h in hits if "total.ts" in h["title"])
    status, full = server.call("GET", f"/v1/memories/{edit['id']}")
    assert full["memory"]["type"] in ("change", "feature", "bugfix") and \
        full["memory"]["filesModified"] == ["src/cart/total.ts"]
    assert any(h["title"].startswith("Session:") for h in hits)
