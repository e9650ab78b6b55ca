# SPDX-License-Identifier: Apache-2.0
"""Bringing history in: the upstream database (new and old schemas), Claude Code transcripts, the
MCP memory server's memory.jsonl and Markdown folders. Each is imported twice (the second run adds
nothing), found by search, carried by context packs, and bad input is reported, never fatal."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from claude_mem.cli.app import app
from claude_mem.handlers import context_pack, search
from claude_mem.handlers import contracts as c
from claude_mem.handlers.context import Principal
from claude_mem.runtime.services import Services
from claude_mem.runtime.settings import load
from support import LiveServer

T0 = 1_760_000_000_000  # 2025-10-09

UPSTREAM_SCHEMA = """
create table sdk_sessions (id integer primary key, content_session_id text, memory_session_id text unique,
  project text, platform_source text not null default 'claude', user_prompt text, started_at text,
  started_at_epoch integer, completed_at text, completed_at_epoch integer, status text, worker_port integer,
  prompt_counter integer, custom_title text);
create table observations (id integer primary key, memory_session_id text, project text, text text, type text,
  title text, subtitle text, facts text, concepts text, files_read text, files_modified text, narrative text,
  prompt_number integer, discovery_tokens integer, content_hash text, generated_by_model text,
  relevance_count integer, merged_into_project text, agent_type text, agent_id text, metadata text,
  created_at text, created_at_epoch integer);
create table session_summaries (id integer primary key, memory_session_id text, project text, request text,
  investigated text, learned text, completed text, next_steps text, files_read text, files_edited text,
  notes text, prompt_number integer, discovery_tokens integer, merged_into_project text, created_at text,
  created_at_epoch integer);
create table user_prompts (id integer primary key, session_db_id integer, content_session_id text,
  prompt_number integer, prompt_text text, created_at text, created_at_epoch integer);
"""

# An older upstream: no subtitle/concepts/agent columns, no summaries' notes, no user_prompts table.
OLD_SCHEMA = """
create table sdk_sessions (id integer primary key, content_session_id text, memory_session_id text,
  project text, started_at_epoch integer, status text);
create table observations (id integer primary key, memory_session_id text, project text, text text, type text,
  title text, facts text, files_read text, files_modified text, narrative text, created_at_epoch integer);
create table session_summaries (id integer primary key, memory_session_id text, project text, request text,
  learned text, completed text, created_at_epoch integer);
"""


def upstream_db(path: Path, old: bool = False) -> Path:
    db = sqlite3.connect(path)
    db.executescript(OLD_SCHEMA if old else UPSTREAM_SCHEMA)
    if old:
        db.execute("insert into sdk_sessions values (1, 'cs-old', 'ms-old', 'legacy-app', ?, 'completed')", (T0,))
        db.execute("insert into observations values (1, 'ms-old', 'legacy-app', null, 'bugfix',"
                   " 'Fixed the cron timezone bug', '[\"cron ran in UTC\"]', '[]', '[\"jobs/cron.py\"]',"
                   " 'The nightly cron ran in UTC instead of Europe/Paris.', ?)", (T0 + 1000,))
        db.execute("insert into session_summaries values (1, 'ms-old', 'legacy-app', 'Fix the cron',"
                   " 'Timezones bite', 'Cron fixed', ?)", (T0 + 2000,))
    else:
        db.execute("insert into sdk_sessions (id, content_session_id, memory_session_id, project, platform_source,"
                   " started_at_epoch, completed_at_epoch, status) values"
                   " (1, 'cs-1', 'ms-1', 'webshop', 'claude', ?, ?, 'completed')", (T0, T0 + 60_000))
        rows = [
            (1, "ms-1", "webshop", "feature", "Added coupon codes to checkout", "checkout flow",
             ["coupons apply before tax"], ["what-changed"], ["src/cart.ts"], ["src/checkout.ts"],
             "Checkout now accepts coupon codes; the discount applies before tax.", T0 + 1000),
            (2, "ms-1", "webshop", "security_note", "Stripe key found in config", "config",
             ["key sk_live_4eC39HqLyjWDarjtT1zdp7dc was in config.yml"], ["gotcha"], ["config.yml"], [],
             "The Stripe secret sk_live_4eC39HqLyjWDarjtT1zdp7dc was committed in config.yml.", T0 + 2000),
            (3, "ms-1", "webshop", "sensitive", "Odd type kept as a concept", "", [], [], [], [], "x", T0 + 3000),
        ]
        for r in rows:
            db.execute("insert into observations (id, memory_session_id, project, type, title, subtitle, facts,"
                       " concepts, files_read, files_modified, narrative, created_at_epoch)"
                       " values (?,?,?,?,?,?,?,?,?,?,?,?)",
                       (*r[:6], json.dumps(r[6]), json.dumps(r[7]), json.dumps(r[8]), json.dumps(r[9]), *r[10:]))
        db.execute("insert into session_summaries (id, memory_session_id, project, request, investigated,"
                   " learned, completed, next_steps, files_read, files_edited, created_at_epoch) values"
                   " (1, 'ms-1', 'webshop', 'Add coupons', 'checkout code', 'tax order matters',"
                   " 'coupons work', 'add expiry dates', '[\"src/cart.ts\"]', '[\"src/checkout.ts\"]', ?)",
                   (T0 + 50_000,))
        db.execute("insert into user_prompts values (1, 1, 'cs-1', 1, 'Add coupon codes to checkout', null, ?)",
                   (T0 + 500,))
        db.execute("insert into user_prompts values (2, 1, 'cs-1', 2, '', null, ?)", (T0 + 600,))  # private
    db.commit()
    db.close()
    return path


def cli(*args: str) -> int:
    return app(list(args), result_action="return_value", exit_on_error=False, print_error=False)


@pytest.fixture
def local(tmp_path, monkeypatch):
    data = tmp_path / "data"
    for k in [k for k in os.environ if k.startswith("CLAUDE_MEM_")]:
        monkeypatch.delenv(k)
    monkeypatch.setenv("CLAUDE_MEM_DATA_DIR", str(data))
    services = Services(load({"CLAUDE_MEM_DATA_DIR": str(data)}), queue=None)
    yield services
    services.close()


def hits(services: Services, query: str, **kw) -> list[c.SearchHit]:
    ctx = services.context(Principal.local())
    return search.search(c.SearchIn(query=query, mode="fts", **kw), ctx).results


def test_upstream_database_twice_with_project_map(local, tmp_path, capsys):
    src = upstream_db(tmp_path / "claude-mem.db")
    before = src.read_bytes()
    assert cli("import", "claude-mem-db", str(src), "--dry-run") == 0
    assert "would import" in capsys.readouterr().out and hits(local, "coupon") == []
    assert cli("import", "claude-mem-db", str(src), "--project-map", "webshop=shop", "--json") == 0
    first = json.loads(capsys.readouterr().out)
    assert first["imported"] == {"sessions": 1, "memories": 3, "summaries": 1, "prompts": 1}
    assert first["skipped"] == {"prompts": 1}  # the private (empty) prompt
    assert cli("import", "claude-mem-db", str(src), "--project-map", "webshop=shop", "--json") == 0
    second = json.loads(capsys.readouterr().out)
    assert second["imported"] == {} and second["skipped"]["memories"] == 3
    assert src.read_bytes() == before  # read-only

    found = hits(local, "coupon codes", project="shop")
    assert "Added coupon codes to checkout" in [h.title for h in found]
    ctx = local.context(Principal.local())
    with local.store.read() as db:
        row = db.execute("select * from memories where title = 'Added coupon codes to checkout'").fetchone()
        secret = db.execute("select narrative, facts from memories where title like 'Stripe key%'").fetchone()
        odd = db.execute("select type, concepts from memories where title like 'Odd type%'").fetchone()
        session = db.execute("select * from sessions").fetchone()
    assert row["created_at"] == T0 + 1000 and row["type"] == "feature"
    assert json.loads(row["files_modified"]) == ["src/checkout.ts"]
    assert json.loads(row["metadata"])["upstream"]["id"] == 1
    assert "sk_live_" not in secret["narrative"] + secret["facts"] and "[REDACTED" in secret["narrative"]
    assert odd["type"] is None and "sensitive" in json.loads(odd["concepts"])
    assert session["platform"] == "claude-code" and session["external_id"] == "cs-1" and session["ended_at"]
    pack = context_pack.build_context(c.ContextIn(project="shop", query="coupons"), ctx).context
    assert "Added coupon codes to checkout" in pack and "Session: Add coupons" in pack


def test_an_older_upstream_schema_imports_what_it_has_and_says_what_it_skipped(local, tmp_path, capsys):
    src = upstream_db(tmp_path / "old.db", old=True)
    assert cli("import", "claude-mem-db", str(src), "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["imported"] == {"sessions": 1, "memories": 1, "summaries": 1}
    warnings = "\n".join(out["warnings"])
    assert "user_prompts: no such table" in warnings and "observations: no column subtitle" in warnings
    assert "Fixed the cron timezone bug" in [h.title for h in hits(local, "cron timezone")]


def test_not_a_database_is_a_clear_error(local, tmp_path, capsys):
    bad = tmp_path / "notes.txt"
    bad.write_text("hello, not sqlite\n" * 100)
    assert cli("import", "claude-mem-db", str(bad)) == 2
    assert "not a readable SQLite database" in capsys.readouterr().err
    assert cli("import", "claude-mem-db", str(tmp_path / "missing.db")) == 2


def transcript_lines(session: str = "sess-1", cwd: str = "/home/dev/payments") -> list[str]:
    base = {"sessionId": session, "cwd": cwd, "version": "2.1.0", "userType": "external", "isSidechain": False}
    lines = [
        {**base, "type": "user", "uuid": "u1", "parentUuid": None, "timestamp": "2026-03-01T10:00:00Z",
         "message": {"role": "user", "content": "Retry failed webhooks with exponential backoff"}},
        {**base, "type": "assistant", "uuid": "a1", "parentUuid": "u1", "timestamp": "2026-03-01T10:00:05Z",
         "message": {"role": "assistant", "model": "m", "content": [
             {"type": "text", "text": "I'll edit the webhook worker."},
             {"type": "tool_use", "id": "toolu_01", "name": "Edit", "input": {
                 "file_path": "/home/dev/payments/src/webhooks.py", "old_string": "retry=0",
                 "new_string": "retry=backoff(5)"}}]}},
        {**base, "type": "user", "uuid": "u2", "parentUuid": "a1", "timestamp": "2026-03-01T10:00:06Z",
         "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01",
                                                  "content": "The file was updated."}]},
         "toolUseResult": {"filePath": "/home/dev/payments/src/webhooks.py", "oldString": "retry=0",
                           "newString": "retry=backoff(5)"}},
        {**base, "type": "assistant", "uuid": "a2", "parentUuid": "u2", "timestamp": "2026-03-01T10:00:09Z",
         "message": {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_02", "name": "Bash",
                                                       "input": {"command": "pytest tests/test_webhooks.py"}}]}},
        {**base, "type": "user", "uuid": "u3", "parentUuid": "a2", "timestamp": "2026-03-01T10:00:20Z",
         "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_02", "is_error": True,
                                                  "content": "FAILED test_retry_backoff - AssertionError"}]},
         "toolUseResult": {"stdout": "", "stderr": "FAILED test_retry_backoff - AssertionError"}},
        {"type": "file-history-snapshot", "messageId": "x", "snapshot": {}, "isSnapshotUpdate": False},
        {"type": "summary", "summary": "Webhook retries", "leafUuid": "u3"},
        {**base, "type": "assistant", "uuid": "a3", "isSidechain": True, "agentId": "agent-7",
         "timestamp": "2026-03-01T10:01:00Z", "message": {"role": "assistant", "content": [
             {"type": "tool_use", "id": "toolu_03", "name": "Grep", "input": {"pattern": "backoff", "path": "src"}}]}},
        {**base, "type": "user", "uuid": "u4", "isSidechain": True, "agentId": "agent-7",
         "timestamp": "2026-03-01T10:01:01Z", "message": {"role": "user", "content": [
             {"type": "tool_result", "tool_use_id": "toolu_03", "content": "src/webhooks.py:12"}]}},
    ]
    return [json.dumps(x) for x in lines]


def test_transcripts_twice_through_the_ingest_path(local, tmp_path, capsys):
    root = tmp_path / "projects" / "-home-dev-payments"
    (root / "sess-1" / "subagents").mkdir(parents=True)
    lines = transcript_lines()
    main, sub = lines[:7], lines[7:]
    (root / "sess-1.jsonl").write_text("\n".join(main + [main[0], "{not json"]) + "\n")  # a repeat and a bad line
    (root / "sess-1" / "subagents" / "agent-7.jsonl").write_text("\n".join(sub) + "\n")
    assert cli("import", "transcripts", str(tmp_path / "projects"), "--json") == 0
    first = json.loads(capsys.readouterr().out)
    assert first["imported"]["events"] == 5  # prompt, edit, bash, grep, session end
    assert first["skipped"]["duplicate lines"] == 1 and first["skipped"]["skipped lines"] == 2
    assert len(first["errors"]) == 1 and first["errors"][0]["line"] == 9
    assert cli("import", "transcripts", str(tmp_path / "projects"), "--json") == 0
    second = json.loads(capsys.readouterr().out)
    assert second["imported"] == {} and second["skipped"]["events"] == 5

    titles = [h.title for h in hits(local, "webhooks", project="payments")]
    assert any("webhooks.py" in t for t in titles)
    with local.store.read() as db:
        statuses = [r[0] for r in db.execute("select status from events")]
        bash = db.execute("select facts from memories where title like '%pytest%'").fetchone()
        summary = db.execute("select narrative from memories where kind = 'summary'").fetchone()
    assert statuses == ["done"] * 5  # distilled before the command ended
    assert "failed" in bash["facts"]
    assert "Retry failed webhooks" in summary["narrative"]
    pack = context_pack.build_context(c.ContextIn(project="payments"), local.context(Principal.local())).context
    assert "webhooks.py" in pack


def test_transcripts_since_skips_older_lines(local, tmp_path, capsys):
    f = tmp_path / "s.jsonl"
    f.write_text("\n".join(transcript_lines()) + "\n")
    assert cli("import", "transcripts", str(f), "--since", "2026-03-02", "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["skipped"]["older than --since"] == 7 and out["imported"] == {}
    assert cli("import", "transcripts", str(f), "--since", "yesterday") == 2


def test_mcp_memory_twice(local, tmp_path, capsys):
    f = tmp_path / "memory.jsonl"
    f.write_text("\n".join([
        json.dumps({"type": "entity", "name": "Billing service", "entityType": "service",
                    "observations": ["Owns invoices", "Written in Go"]}),
        json.dumps({"type": "entity", "name": "Ledger", "entityType": "database", "observations": ["Postgres 16"]}),
        json.dumps({"type": "relation", "from": "Billing service", "to": "Ledger", "relationType": "writes to"}),
        "garbage{",
        json.dumps({"type": "entity"}),
    ]) + "\n")
    assert cli("import", "mcp-memory", str(f), "--project", "platform", "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["imported"] == {"memories": 2} and len(out["errors"]) == 2
    assert cli("import", "mcp-memory", str(f), "--project", "platform", "--json") == 0
    assert json.loads(capsys.readouterr().out)["imported"] == {}
    [hit] = hits(local, "invoices", project="platform")
    with local.store.read() as db:
        facts = json.loads(db.execute("select facts from memories where id = ?", (hit.id,)).fetchone()[0])
    assert hit.title == "Billing service (service)" and "Billing service writes to Ledger" in facts


def test_markdown_folder_twice(local, tmp_path, capsys):
    notes = tmp_path / "notes"
    (notes / "decisions").mkdir(parents=True)
    (notes / ".obsidian").mkdir()
    (notes / "CLAUDE.md").write_text("# Project rules\n\nRun `make check` before every commit.\n")
    (notes / "decisions" / "queue.md").write_text(
        "---\ntitle: Queue\ntags: [infra]\n---\n# Queue choice\n\nWe chose Valkey streams over Kafka.\n")
    long = "# Runbook\n\n" + "\n\n".join(f"## Step {i}\n\n" + ("Check the dashboard. " * 60) for i in range(4))
    (notes / "runbook.md").write_text(long)
    (notes / ".obsidian" / "workspace.md").write_text("# hidden\n")
    assert cli("import", "markdown", str(notes), "--project", "wiki", "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["imported"] == {"notes": 2 + 5}  # two short notes, the runbook's intro + 4 sections
    assert cli("import", "markdown", str(notes), "--project", "wiki", "--json") == 0
    assert json.loads(capsys.readouterr().out)["imported"] == {}
    [hit] = hits(local, "valkey kafka", project="wiki")
    assert hit.title == "Queue choice"
    assert any(h.title == "Runbook: Step 2" for h in hits(local, "dashboard", project="wiki", limit=10))
    assert hits(local, "hidden", project="wiki") == []


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = LiveServer(tmp_path_factory.mktemp("import") / "data")
    yield srv
    srv.stop()


def test_import_into_a_running_server(server, tmp_path):
    """The CLI streams to POST /v1/import; the events go through the server's own queue."""
    f = tmp_path / "t.jsonl"
    f.write_text("\n".join(transcript_lines("sess-http", "/src/orders")) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDE_MEM_")}
    env["CLAUDE_MEM_URL"] = server.base
    done = subprocess.run([sys.executable, "-m", "claude_mem.cli", "import", "transcripts", str(f), "--json"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["imported"]["events"] == 5
    db = upstream_db(tmp_path / "up.db")
    done = subprocess.run([sys.executable, "-m", "claude_mem.cli", "import", "claude-mem-db", str(db), "--json"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["imported"]["memories"] == 3
    from support import wait_for

    def found() -> bool:
        status, body = server.call("POST", "/v1/search", {"query": "webhooks", "project": "orders"})
        return status == 200 and len(body["results"]) >= 2
    wait_for(found, timeout=20)
    status, body = server.call("POST", "/v1/import?format=markdown&project=x", None)
    assert status == 400 and body["issues"][0]["path"] == "$.body"
    status, body = server.call("POST", "/v1/import?format=nonsense", None)
    assert status == 400 and body["issues"][0]["path"] == "$.format"
