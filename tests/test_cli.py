# SPDX-License-Identifier: Apache-2.0
"""The CLI through cyclopts: commands that wrap handlers, settings errors, doctor, status."""

from __future__ import annotations

import json

import pytest

from claude_mem.cli.app import app
from claude_mem.runtime.settings import SettingsError, load


@pytest.fixture
def cli(data_dir, monkeypatch):
    monkeypatch.setenv("CLAUDE_MEM_DATA_DIR", str(data_dir))
    monkeypatch.delenv("CLAUDE_MEM_URL", raising=False)

    def run(*args: str) -> int:
        return app(list(args), result_action="return_value", exit_on_error=False, print_error=False)
    return run


def test_add_search_context_forget_in_process(cli, capsys):
    assert cli("add", "Pin numpy below 3 because the C API changed", "--project", "acme",
               "--kind", "decision", "--json") == 0
    mem = json.loads(capsys.readouterr().out)["memory"]
    assert mem["kind"] == "decision" and mem["title"].startswith("Pin numpy")
    assert cli("search", "numpy", "--json") == 0
    hits = json.loads(capsys.readouterr().out)["results"]
    assert [h["id"] for h in hits] == [mem["id"]]
    assert cli("search", "numpy") == 0
    assert mem["id"] in capsys.readouterr().out
    assert cli("context", "--project", "acme") == 0
    assert capsys.readouterr().out.startswith("# Memory: acme")
    assert cli("forget", mem["id"]) == 0
    assert "forgot 1 memory" in capsys.readouterr().out
    assert cli("search", "numpy") == 0
    assert "no memories found" in capsys.readouterr().out


def test_bad_input_is_a_message_and_exit_2(cli, capsys):
    assert cli("search", "x", "--limit", "1000") == 2
    assert "$.limit" in capsys.readouterr().err
    assert cli("context", "--project", "nope") == 2
    assert "not found" in capsys.readouterr().err
    assert cli("add", "   ", "--project", "acme") == 2


def test_a_bad_setting_names_its_variable(cli, capsys, monkeypatch):
    monkeypatch.setenv("CLAUDE_MEM_PORT", "eighty")
    assert cli("server", "doctor") == 2
    assert "CLAUDE_MEM_PORT" in capsys.readouterr().err
    with pytest.raises(SettingsError, match="CLAUDE_MEM_QUEUE_ENGINE"):
        load({"CLAUDE_MEM_QUEUE_ENGINE": "kafka"})


def test_settings_precedence_env_over_file_over_defaults(data_dir):
    data_dir.mkdir(parents=True)
    (data_dir / "settings.json").write_text(json.dumps({"CLAUDE_MEM_PORT": 4000, "context_tokens": 900}))
    s = load({"CLAUDE_MEM_DATA_DIR": str(data_dir), "CLAUDE_MEM_PORT": "4100"})
    assert s.port == 4100 and s.context_tokens == 900 and s.host == "127.0.0.1"
    (data_dir / "settings.json").write_text(json.dumps({"nonsense": 1}))
    with pytest.raises(SettingsError, match="nonsense"):
        load({"CLAUDE_MEM_DATA_DIR": str(data_dir)})


def test_local_dev_refuses_a_public_bind():
    with pytest.raises(SettingsError, match="loopback"):
        load({"CLAUDE_MEM_HOST": "0.0.0.0"})
    assert load({"CLAUDE_MEM_HOST": "0.0.0.0", "CLAUDE_MEM_AUTH_MODE": "api-key"}).host == "0.0.0.0"


def test_doctor_is_green_here_and_status_says_not_running(cli, capsys):
    assert cli("server", "doctor") == 0
    out = capsys.readouterr().out
    assert "sqlite-vec" in out and "FAIL" not in out
    assert cli("server", "status", "--json") == 1
    assert json.loads(capsys.readouterr().out)["running"] is False
    assert cli("worker", "status") == 1


def test_migrate_is_idempotent(cli, capsys):
    assert cli("server", "migrate") == 0
    assert "applied" in capsys.readouterr().out
    assert cli("server", "migrate") == 0
    assert "already up to date" in capsys.readouterr().out


def test_help_lists_the_commands(cli, capsys):
    from io import StringIO

    from rich.console import Console
    buf = StringIO()
    app(["server", "--help"], console=Console(file=buf, width=100), result_action="return_value")
    text = buf.getvalue()
    for name in ("start", "stop", "restart", "status", "logs", "migrate", "doctor"):
        assert name in text


def test_server_export_then_import_elsewhere(cli, capsys, tmp_path, monkeypatch):
    assert cli("add", "The staging database is restored every Monday", "--project", "ops") == 0
    assert cli("server", "team", "create", "blue") == 0
    backup = tmp_path / "backup.jsonl"
    assert cli("server", "export", "--output", str(backup)) == 0
    capsys.readouterr()
    header = json.loads(backup.read_text().splitlines()[0])
    assert header["record"] == "header"
    assert cli("server", "export", "--team", "nope") == 2
    assert "no team named 'nope'" in capsys.readouterr().err

    monkeypatch.setenv("CLAUDE_MEM_DATA_DIR", str(tmp_path / "restored"))
    assert cli("server", "import", str(backup), "--dry-run") == 0
    assert "would import" in capsys.readouterr().out
    assert cli("server", "import", str(backup), "--json") == 0
    assert json.loads(capsys.readouterr().out)["imported"]["memories"] == 1
    assert cli("server", "import", str(backup), "--json") == 0
    assert json.loads(capsys.readouterr().out)["imported"]["memories"] == 0
    assert cli("search", "staging database", "--json") == 0
    assert json.loads(capsys.readouterr().out)["results"][0]["title"].startswith("The staging database")
    assert cli("server", "import", str(tmp_path / "missing.jsonl")) == 2


def test_a_pid_file_naming_another_process_is_stale(settings):
    """A restarted container is pid 1 again: the old pid file names the new server itself."""
    import os
    import subprocess
    import sys
    import time

    from claude_mem.runtime import process
    settings.data_path.mkdir(parents=True, exist_ok=True)

    def write(pid: int, started: int) -> None:
        settings.pid_path.write_text(json.dumps({"pid": pid, "host": "127.0.0.1", "port": 37777,
                                                "startedAtEpoch": started}))
    write(os.getpid(), int(time.time() * 1000) - 3_600_000)
    assert process.running(settings) is None and not settings.pid_path.exists()
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        write(child.pid, int(time.time() * 1000) - 3_600_000)  # the pid was reused by a newer process
        assert process.running(settings) is None
        write(child.pid, int(time.time() * 1000))  # a live server that wrote its file after it started
        assert process.running(settings).pid == child.pid
    finally:
        child.kill()
        child.wait()
