# SPDX-License-Identifier: Apache-2.0
"""End to end: the real `claude-mem server start` process on a free port, a Claude Code
PostToolUse payload posted as an event, the memory found through /v1/search, then `server stop`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request

import pytest

from support import free_port, hook_sample, wait_for

pytestmark = pytest.mark.e2e


def _http(url: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method="POST" if data else "GET",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read())


def _cli(env: dict, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "claude_mem.cli", *args], env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def server_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDE_MEM_")}
    env |= {"CLAUDE_MEM_DATA_DIR": str(tmp_path / "data"), "CLAUDE_MEM_PORT": str(free_port())}
    yield env
    _cli(env, "server", "stop")


def test_real_server_process_ingests_a_hook_payload_and_finds_it(server_env):
    base = f"http://127.0.0.1:{server_env['CLAUDE_MEM_PORT']}"
    proc = subprocess.Popen([sys.executable, "-m", "claude_mem.cli", "server", "start"], env=server_env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: proc.poll() is None and _ok(base), timeout=30, interval=0.1)
        payload = hook_sample("post_tool_use.bash")
        accepted = _http(base + "/v1/events", {"project": "acme-api", "contentSessionId": payload["session_id"],
                                               "eventType": "tool_use", "payload": payload})
        assert accepted["duplicate"] is False
        hits = wait_for(lambda: _http(base + "/v1/search", {"query": "git log"})["results"], timeout=10)
        assert hits[0]["title"] and hits[0]["projectId"]
        remote = _cli(server_env | {"CLAUDE_MEM_URL": base}, "search", "git log", "--json")
        assert remote.returncode == 0 and json.loads(remote.stdout)["results"][0]["id"] == hits[0]["id"]
        bad = _cli(server_env | {"CLAUDE_MEM_URL": base}, "search", "x", "--limit", "0")
        assert bad.returncode == 2 and "$.limit" in bad.stderr
        status = _cli(server_env, "server", "status", "--json")
        assert status.returncode == 0 and json.loads(status.stdout)["pid"] == proc.pid
        stopped = _cli(server_env, "server", "stop")
        assert stopped.returncode == 0 and f"pid {proc.pid}" in stopped.stdout
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_daemon_start_status_logs_and_restart(server_env):
    started = _cli(server_env, "server", "start", "--daemon")
    assert started.returncode == 0, started.stderr
    again = _cli(server_env, "server", "start", "--daemon")
    assert again.returncode == 2 and "already running" in again.stderr
    assert _cli(server_env, "server", "status").returncode == 0
    logs = _cli(server_env, "server", "logs", "--lines", "20")
    assert "listening" in logs.stdout
    restarted = _cli(server_env, "server", "restart")
    assert restarted.returncode == 0, restarted.stderr
    assert _cli(server_env, "worker", "stop").returncode == 0
    assert _cli(server_env, "server", "status").returncode == 1


def test_a_taken_port_is_a_clear_error(server_env):
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", int(server_env["CLAUDE_MEM_PORT"])))
        s.listen()
        r = _cli(server_env, "server", "start")
    assert r.returncode == 2 and "in use" in r.stderr


def _ok(base: str) -> bool:
    try:
        return _http(base + "/healthz")["status"] == "ok"
    except OSError:
        return False
