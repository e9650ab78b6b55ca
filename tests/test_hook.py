# SPDX-License-Identifier: Apache-2.0
"""`claude-mem hook <event>`: every Claude Code sample against a live server (the memories
appear) and against no server (exit 0 at once, nothing Claude Code would act on)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from claude_mem.cli.project import project_for
from support import HOOK_SAMPLES, LiveServer, free_port, hook_sample, wait_for

pytestmark = pytest.mark.e2e

SAMPLES = {
    "session-start": "session_start.startup", "user-prompt-submit": "user_prompt_submit",
    "post-tool-use": "post_tool_use.read", "post-tool-use-failure": "post_tool_use_failure.bash",
    "stop": "stop", "subagent-stop": "subagent_stop", "pre-compact": "pre_compact", "session-end": "session_end",
}
TOOL_SAMPLES = ["post_tool_use.read", "post_tool_use.edit", "post_tool_use.write", "post_tool_use.bash"]


def hook(event: str, payload: dict | str, env: dict, timeout: float = 20) -> subprocess.CompletedProcess:
    stdin = payload if isinstance(payload, str) else json.dumps(payload)
    return subprocess.run([sys.executable, "-m", "claude_mem.cli", "hook", event], input=stdin, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    server = LiveServer(tmp_path_factory.mktemp("hook") / "data")
    yield server
    server.stop()


@pytest.fixture
def env(live, tmp_path):
    return live.env | {"CLAUDE_MEM_URL": live.base, "CLAUDE_MEM_HOOK_STATE": str(tmp_path / "state.json"),
                       "CLAUDE_MEM_PROJECT": f"p{time.monotonic_ns()}"}


def test_every_sample_is_recorded_and_session_start_gets_context(live, env):
    for event, name in SAMPLES.items():
        r = hook(event, hook_sample(name), env)
        assert r.returncode == 0, (event, r.stderr)
        if event == "session-start":
            out = json.loads(r.stdout)
            assert out["hookSpecificOutput"]["hookEventName"] == "SessionStart"
            assert out["hookSpecificOutput"]["additionalContext"].startswith("# Memory:")
        else:
            assert r.stdout == ""
    for name in TOOL_SAMPLES:
        assert hook("post-tool-use", hook_sample(name), env).returncode == 0
    project = env["CLAUDE_MEM_PROJECT"]

    def titles():
        status, out = live.call("POST", "/v1/search", {"query": "", "project": project, "limit": 50})
        return [r["title"] for r in out["results"]] if status == 200 else []
    found = wait_for(lambda: (t := titles()) and len(t) >= 6 and t, timeout=15)
    assert "Edited refresh.ts" in found and "Failed: npm test" in found
    assert any(t.startswith("Request: The login test is flaky") for t in found)
    assert any(t.startswith("Session: ") for t in found)  # Stop and SessionEnd summarise
    # the next session starts with what this one learned
    r = hook("session-start", hook_sample("session_start.startup") | {"session_id": "next"}, env)
    assert "Edited refresh.ts" in json.loads(r.stdout)["hookSpecificOutput"]["additionalContext"]


def test_a_replayed_tool_use_is_recorded_once(live, env):
    sample = hook_sample("post_tool_use.bash") | {"session_id": "replay"}
    for _ in range(3):
        assert hook("post-tool-use", sample, env).returncode == 0
    wait_for(lambda: live.call("POST", "/v1/search", {"query": "git log", "project": env["CLAUDE_MEM_PROJECT"]})[1]
             ["results"], timeout=10)
    _, out = live.call("POST", "/v1/search", {"query": "git log", "project": env["CLAUDE_MEM_PROJECT"]})
    assert len(out["results"]) == 1


def test_no_server_exits_0_quickly_and_prints_nothing_to_act_on(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "CLAUDE_MEM_URL": f"http://127.0.0.1:{free_port()}",
           "CLAUDE_MEM_HOOK_STATE": str(tmp_path / "state.json")}
    for event, name in SAMPLES.items():
        start = time.monotonic()
        r = hook(event, hook_sample(name), env)
        assert r.returncode == 0 and time.monotonic() - start < 5
        assert r.stdout == "", (event, r.stdout)
        assert "unreachable" in r.stderr
    # after repeated failures the user is told, at session start, without blocking anything
    r = hook("session-start", hook_sample("session_start.startup"), env)
    assert r.returncode == 0 and "systemMessage" in json.loads(r.stdout)
    assert "hookSpecificOutput" not in json.loads(r.stdout)


def test_bad_input_never_fails_the_agent(env):
    assert hook("post-tool-use", "not json", env).returncode == 0
    assert hook("post-tool-use", "[1,2]", env).returncode == 0
    assert hook("no-such-event", "{}", env).returncode == 2


def test_the_hook_path_imports_no_server_stack():
    code = ("import sys, io; sys.stdin = io.StringIO('{}'); from claude_mem.cli.main import main; "
            "sys.argv = ['claude-mem', 'hook', 'stop']\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('litestar', 'dramatiq', 'redis', 'mcp', 'cyclopts', 'msgspec', 'urllib.request')"
            " if m in sys.modules]\nprint(','.join(heavy))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={"PATH": "/usr/bin:/bin", "CLAUDE_MEM_URL": "http://127.0.0.1:9"})
    assert r.stdout.strip() == "", r.stdout


def test_worktrees_share_their_repository_project(tmp_path):
    repo = tmp_path / "acme-api"
    (repo / ".git" / "worktrees" / "feature").mkdir(parents=True)
    (repo / ".git" / "worktrees" / "feature" / "commondir").write_text("../..\n")
    wt = tmp_path / "acme-api-feature"
    (wt / "src").mkdir(parents=True)
    (wt / ".git").write_text(f"gitdir: {repo / '.git' / 'worktrees' / 'feature'}\n")
    assert project_for(str(repo / ".git" / ".."), {}) == "acme-api"
    assert project_for(str(wt / "src"), {}) == "acme-api"
    (wt / ".claude-mem-project").write_text("custom-name\n")
    assert project_for(str(wt / "src"), {}) == "custom-name"
    assert project_for(str(wt), {"CLAUDE_MEM_PROJECT": "from-env"}) == "from-env"
    assert project_for(str(tmp_path / "plain"), {}) == "plain"


def test_samples_folder_is_complete():
    assert len(list(HOOK_SAMPLES.glob("*.json"))) >= 13
