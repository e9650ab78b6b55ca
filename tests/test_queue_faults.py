# SPDX-License-Identifier: Apache-2.0
"""Fault tests of the dramatiq engine with real worker processes and a real Valkey: kill -9 a
worker mid-drain, restart Valkey mid-run, Valkey away while events arrive, and an explicitly
configured engine without Valkey."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from claude_mem.handlers import contracts as c
from claude_mem.handlers import events as events_handler
from claude_mem.handlers.context import Principal
from claude_mem.runtime.services import Services
from claude_mem.runtime.settings import load
from support import free_port, loopback, wait_for

pytestmark = pytest.mark.e2e


def _env(data_dir, url: str, prefix: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDE_MEM_")}
    return env | {"CLAUDE_MEM_DATA_DIR": str(data_dir), "CLAUDE_MEM_QUEUE_ENGINE": "dramatiq",
                  "CLAUDE_MEM_REDIS_URL": url, "CLAUDE_MEM_QUEUE_REDIS_PREFIX": prefix,
                  "CLAUDE_MEM_QUEUE_LOCK_TTL_MS": "2000"}


def _worker(env: dict[str, str], threads: int = 2) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "claude_mem.cli", "server", "worker", "start",
                             "--threads", str(threads)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _ingest(services: Services, sessions: int, per_session: int, tag: str = "") -> list[str]:
    ctx = services.context(Principal.local())
    ids = []
    for i in range(per_session):
        for s in range(sessions):
            out = events_handler.ingest_event(c.EventIn(
                project="faults", content_session_id=f"{tag}s{s}", event_type="tool_use",
                payload={"tool_name": "Bash", "tool_use_id": f"{tag}t{s}-{i}",
                         "tool_input": {"command": f"echo {tag} {s} {i}"}}), ctx)
            ids.append(out.event.id)
    return ids


def _figures(services: Services) -> dict[str, int]:
    db = services.store.conn()
    return {
        "done": db.execute("select count(*) from events where status = 'done'").fetchone()[0],
        "events": db.execute("select count(*) from events").fetchone()[0],
        "memories": db.execute("select count(*) from memories").fetchone()[0],
        "twice": db.execute("select count(*) from events where attempts != 1").fetchone()[0],
        "multi": db.execute("select count(*) from (select event_id from memory_sources group by event_id"
                            " having count(*) > 1)").fetchone()[0],
    }


def _assert_exactly_once(services: Services, total: int) -> None:
    f = _figures(services)
    assert f == {"done": total, "events": total, "memories": total, "twice": 0, "multi": 0}, f


def test_kill_9_of_a_worker_mid_drain_loses_and_duplicates_nothing(tmp_path, real_valkey):
    env = _env(tmp_path / "data", real_valkey.url, f"kill-{uuid.uuid4().hex[:8]}")
    services = Services(load(env))
    total = len(_ingest(services, sessions=20, per_session=60))
    victim, survivor = _worker(env), _worker(env)
    try:
        wait_for(lambda: _figures(services)["done"] > total // 10, timeout=60)
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        killed_at = time.monotonic()
        wait_for(lambda: _figures(services)["done"] == total, timeout=90, interval=0.2)
        recovered = time.monotonic() - killed_at
        _assert_exactly_once(services, total)
        assert recovered < 60
        survivor.send_signal(signal.SIGTERM)  # finishes the current event, then exits
        assert survivor.wait(30) == 0
    finally:
        for p in (victim, survivor):
            if p.poll() is None:
                p.kill()
        services.close()


def test_restarting_valkey_mid_run_loses_nothing(tmp_path, own_valkey):
    env = _env(tmp_path / "data", own_valkey.url, "restart")
    services = Services(load(env))
    worker = _worker(env)
    try:
        wait_for(lambda: services.queue.status().get("workerProcesses", 0) >= 1, timeout=30)
        first = _ingest(services, sessions=5, per_session=40, tag="a")
        own_valkey.restart()
        second = _ingest(services, sessions=5, per_session=40, tag="b")
        total = len(first) + len(second)
        wait_for(lambda: _figures(services)["done"] == total, timeout=90, interval=0.2)
        _assert_exactly_once(services, total)
    finally:
        worker.terminate()
        worker.wait(30)
        services.close()


def test_valkey_away_while_events_arrive_then_all_processed(tmp_path, own_valkey):
    from litestar.testing import TestClient

    from claude_mem.runtime.app import create_app
    settings = load(_env(tmp_path / "data", own_valkey.url, "away") | {"CLAUDE_MEM_EMBEDDED_WORKER": "true"})
    with TestClient(loopback(create_app(settings)), base_url="http://127.0.0.1:37777") as client:
        assert client.get("/readyz").status_code == 200
        own_valkey.stop()
        answers = [client.post("/v1/events", json={
            "project": "p", "contentSessionId": f"s{i % 3}", "eventType": "tool_use",
            "payload": {"tool_name": "Bash", "tool_use_id": f"t{i}", "tool_input": {"command": f"echo {i}"}}})
            for i in range(12)]
        assert {r.status_code for r in answers} == {202}
        assert all(r.json()["queued"] is False for r in answers)
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["queue"]["ok"] is False
        own_valkey.start()

        def done() -> bool:
            return client.get("/v1/info").json()["queue"]["pending_events"] == 0
        wait_for(done, timeout=60, interval=0.3)
        assert client.get("/v1/info").json()["counts"]["memories"] == 12
        wait_for(lambda: client.get("/readyz").status_code == 200, timeout=20)


def test_an_explicit_dramatiq_engine_without_valkey_is_an_error_not_a_fallback(tmp_path):
    env = _env(tmp_path / "data", f"redis://127.0.0.1:{free_port()}/0", "none")
    env["CLAUDE_MEM_PORT"] = str(free_port())
    for args in (["server", "start"], ["server", "worker", "start"]):
        r = subprocess.run([sys.executable, "-m", "claude_mem.cli", *args], env=env, capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 1, (args, r.stdout, r.stderr)
        assert "CLAUDE_MEM_QUEUE_ENGINE=dramatiq needs Valkey" in r.stderr


def test_managed_valkey_starts_with_the_server_and_stops_with_it(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDE_MEM_")}
    env |= {"CLAUDE_MEM_DATA_DIR": str(tmp_path / "data"), "CLAUDE_MEM_PORT": str(free_port()),
            "CLAUDE_MEM_QUEUE_ENGINE": "dramatiq", "CLAUDE_MEM_REDIS_MODE": "managed",
            "CLAUDE_MEM_EMBEDDED_WORKER": "true"}
    cli = [sys.executable, "-m", "claude_mem.cli"]
    started = subprocess.run(cli + ["server", "start", "--daemon"], env=env, capture_output=True, text=True,
                             timeout=60)
    assert started.returncode == 0, started.stderr
    try:
        url = (tmp_path / "data" / "valkey.url").read_text().strip()
        import json
        import urllib.request
        base = f"http://127.0.0.1:{env['CLAUDE_MEM_PORT']}"
        req = urllib.request.Request(base + "/v1/events", method="POST", headers={"Content-Type": "application/json"},
                                     data=json.dumps({"project": "m", "contentSessionId": "s", "eventType": "prompt",
                                                      "payload": {"prompt": "managed valkey works"}}).encode())
        with urllib.request.urlopen(req, timeout=10) as r:
            assert json.loads(r.read())["queued"] is True

        def found():
            q = urllib.request.Request(base + "/v1/search", method="POST", headers={"Content-Type": "application/json"},
                                       data=json.dumps({"query": "managed valkey"}).encode())
            with urllib.request.urlopen(q, timeout=10) as r:
                return json.loads(r.read())["results"]
        wait_for(found, timeout=20, interval=0.2)
        assert (tmp_path / "data" / "valkey" / "appendonlydir").exists()
    finally:
        subprocess.run(cli + ["server", "stop"], env=env, timeout=60)
    from claude_mem.queue.valkey import reachable
    assert reachable(url, timeout=0.5) is not None
