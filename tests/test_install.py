# SPDX-License-Identifier: Apache-2.0
"""`claude-mem install`: merges into settings that already have other hooks, twice, with a backup."""

from __future__ import annotations

import json

from claude_mem.cli.app import app

OTHER = {"matcher": "Bash", "hooks": [{"type": "command", "command": "my-linter --check"}]}


def run(*args):
    return app(list(args), result_action="return_value", exit_on_error=False, print_error=False)


def test_install_merges_is_idempotent_and_uninstall_leaves_others(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path))
    settings = tmp_path / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(json.dumps({"model": "opus", "hooks": {"PostToolUse": [OTHER]}}))
    (tmp_path / ".claude.json").write_text(json.dumps({"numStartups": 7,
                                                       "mcpServers": {"github": {"command": "gh-mcp"}}}))
    assert run("install", "--dry-run") == 0
    assert "(dry run)" in capsys.readouterr().out
    assert json.loads(settings.read_text())["hooks"] == {"PostToolUse": [OTHER]}
    assert run("install") == 0
    out = capsys.readouterr().out
    assert "added the PostToolUse hook" in out and "backup in" in out
    data = json.loads(settings.read_text())
    assert data["model"] == "opus" and data["hooks"]["PostToolUse"][0] == OTHER
    cmds = [h["command"] for e in data["hooks"]["PostToolUse"] for h in e["hooks"]]
    assert cmds[0] == "my-linter --check" and cmds[1].endswith("claude-mem hook post-tool-use")
    assert set(data["hooks"]) >= {"SessionStart", "UserPromptSubmit", "Stop", "SessionEnd", "PreCompact"}
    claude_json = json.loads((tmp_path / ".claude.json").read_text())
    assert claude_json["numStartups"] == 7 and claude_json["mcpServers"]["github"] == {"command": "gh-mcp"}
    assert claude_json["mcpServers"]["claude-mem"]["args"] == ["mcp"]
    assert run("install") == 0
    assert "nothing to change" in capsys.readouterr().out
    assert json.loads(settings.read_text()) == data
    assert len(list(settings.parent.glob("settings.json.bak-*"))) >= 1
    assert run("uninstall") == 0
    after = json.loads(settings.read_text())
    assert after == {"model": "opus", "hooks": {"PostToolUse": [OTHER]}}
    assert json.loads((tmp_path / ".claude.json").read_text()) == {"numStartups": 7,
                                                                   "mcpServers": {"github": {"command": "gh-mcp"}}}


def test_project_install_and_a_broken_settings_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert run("install", "--project") == 0
    assert (tmp_path / ".claude" / "settings.json").exists()
    (tmp_path / ".claude" / "settings.json").write_text("{not json")
    assert run("install", "--project") == 2
    assert (tmp_path / ".claude" / "settings.json").read_text() == "{not json"
