# SPDX-License-Identifier: Apache-2.0
"""The queue-engine contract, run against both engines (the embedded sqlite engine, and the
dramatiq engine on a real Valkey): per-session FIFO under concurrency, never two drains of one
session at once, recovery after a restart and after a dead holder, depth figures."""

from __future__ import annotations

import random
import threading
import time
import uuid
from dataclasses import dataclass

import pytest

from claude_mem.handlers import contracts as c
from claude_mem.handlers import events as events_handler
from claude_mem.handlers.context import Principal
from claude_mem.queue.dramatiq_engine import DramatiqEngine
from claude_mem.queue.sqlite_engine import SqliteEngine
from claude_mem.storage import events as events_repo
from support import wait_for


@dataclass
class Result:
    processed: int
    more: bool


class RecordingDrain:
    """A drain that takes pending events in seq order and records what it saw."""

    def __init__(self, store):
        self.store = store
        self.active: set[str] = set()
        self.lock = threading.Lock()
        self.overlaps = 0
        self.seen: dict[str, list[int]] = {}

    def __call__(self, sid: str) -> Result:
        with self.lock:
            if sid in self.active:
                self.overlaps += 1
            self.active.add(sid)
        n = 0
        try:
            while True:
                with self.store.write() as db:
                    ev = events_repo.next_pending(db, sid)
                    if ev is None:
                        break
                    events_repo.set_status(db, ev["id"], "done")
                with self.lock:
                    self.seen.setdefault(sid, []).append(ev["seq"])
                n += 1
                time.sleep(random.random() / 1000)
        finally:
            with self.lock:
                self.active.discard(sid)
        return Result(processed=n, more=False)


@pytest.fixture(params=["sqlite", "dramatiq"])
def engines(request, quiet_services):
    """Make engines of one kind on the test's store; all stopped at the end."""
    made = []
    prefix = f"test-{uuid.uuid4().hex[:10]}"
    url = request.getfixturevalue("real_valkey").url if request.param == "dramatiq" else ""

    def make(drain, workers: int = 4):
        if request.param == "sqlite":
            engine = SqliteEngine(quiet_services.store, drain, workers=workers, sweep_interval=0.1)
            engine.start()
        else:
            engine = DramatiqEngine(quiet_services.store, drain, url=url, prefix=prefix, lock_ttl_ms=1500,
                                    sweep_interval=0.2, sweep_age_ms=300)
            engine.start(consume=True, threads=workers)
        made.append(engine)
        return engine

    make.kind = request.param
    make.prefix = prefix
    make.url = url
    yield make
    for engine in made:
        engine.stop()


def _post(ctx, session: str, i: int):
    return events_handler.ingest_event(c.EventIn(project="p", content_session_id=session, event_type="prompt",
                                                 payload={"prompt": f"{session} {i}"}), ctx)


def test_fifo_per_session_and_no_overlapping_drains(quiet_services, engines):
    store = quiet_services.store
    rec = RecordingDrain(store)
    engine = engines(rec, workers=4)
    ctx = quiet_services.context(Principal.local())
    ctx.queue = engine
    if True:
        sessions = [f"s{i}" for i in range(20)]
        per_session = 15

        def producer(names):
            for i in range(per_session):
                for s in names:
                    _post(ctx, s, i)

        threads = [threading.Thread(target=producer, args=(sessions[k::3],)) for k in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        total = len(sessions) * per_session
        wait_for(lambda: sum(len(v) for v in rec.seen.values()) == total, timeout=60)
    assert rec.overlaps == 0
    assert len(rec.seen) == 20
    for seqs in rec.seen.values():
        assert seqs == list(range(1, per_session + 1))
    with store.read() as db:
        assert events_repo.depth(db, 0)["pending_events"] == 0


def test_two_engines_on_one_file_never_drain_a_session_twice_at_once(quiet_services, engines):
    """As two server or worker processes would: separate engines sharing the store (and Valkey)."""
    store = quiet_services.store
    rec = RecordingDrain(store)
    pair = [engines(rec, workers=2), engines(rec, workers=2)]
    ctx = quiet_services.context(Principal.local())
    for i in range(40):
        for s in ("a", "b", "c"):
            sid = _post(ctx, s, i).event.session_id
            for e in pair:
                e.notify(sid)
    wait_for(lambda: sum(len(v) for v in rec.seen.values()) == 120, timeout=60)
    assert rec.overlaps == 0
    assert all(seqs == list(range(1, 41)) for seqs in rec.seen.values())


def test_pending_events_are_drained_after_a_restart(quiet_services, engines):
    store = quiet_services.store
    ctx = quiet_services.context(Principal.local())
    for i in range(5):
        _post(ctx, "left-behind", i)  # no engine running: the events wait in SQLite
    with store.read() as db:
        depth = events_repo.depth(db, int(time.time() * 1000))
    assert depth["pending_events"] == 5 and depth["sessions_waiting"] == 1
    assert depth["oldest_pending_age_ms"] >= 0
    rec = RecordingDrain(store)
    engines(rec, workers=2)  # no wake-up was ever sent: the sweep finds the work
    wait_for(lambda: len(rec.seen.get(_session_id(store, "left-behind"), [])) == 5, timeout=15)


def test_a_lock_left_by_a_dead_worker_expires(quiet_services, engines):
    store = quiet_services.store
    ctx = quiet_services.context(Principal.local())
    sid = _post(ctx, "crashed", 0).event.session_id
    if engines.kind == "sqlite":  # as if a worker died holding the lease
        with store.write() as db:
            db.execute("update sessions set lease_owner = 'dead', lease_until = ? where id = ?",
                       (int(time.time() * 1000) + 300, sid))
    else:
        import redis
        redis.Redis.from_url(engines.url).set(f"{engines.prefix}:lock:{sid}", "dead", px=800)
    rec = RecordingDrain(store)
    engine = engines(rec, workers=1)
    engine.notify(sid)
    wait_for(lambda: rec.seen.get(sid) == [1], timeout=15)


def test_replaying_an_idempotency_key_adds_nothing(quiet_services, engines):
    store = quiet_services.store
    rec = RecordingDrain(store)
    ctx = quiet_services.context(Principal.local())
    ctx.queue = engines(rec, workers=2)
    payload = {"tool_name": "Bash", "tool_use_id": "toolu_same", "tool_input": {"command": "ls"}}
    outs = [events_handler.ingest_event(c.EventIn(project="p", content_session_id="s", event_type="tool_use",
                                                  payload=payload), ctx) for _ in range(5)]
    assert len({o.event.id for o in outs}) == 1 and [o.duplicate for o in outs] == [False] + [True] * 4
    wait_for(lambda: rec.seen.get(outs[0].event.session_id) == [1], timeout=15)
    time.sleep(0.3)
    assert rec.seen[outs[0].event.session_id] == [1]


def test_status_reports_health(quiet_services, engines):
    engine = engines(RecordingDrain(quiet_services.store), workers=1)
    status = engine.status()
    assert status["healthy"] is True and status["detail"]


def test_the_real_drain_runs_through_services(services):
    ctx = services.context(Principal.local())
    out = _post(ctx, "real", 0)
    wait_for(lambda: events_handler.get_event(c.ById(id=out.event.id), ctx).event.status == "done")
    status = services.queue.status()
    assert status["healthy"] and status["drains"] >= 1


def _session_id(store, external: str) -> str:
    row = store.conn().execute("select id from sessions where external_id = ?", (external,)).fetchone()
    return row[0] if row else ""
