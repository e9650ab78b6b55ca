# SPDX-License-Identifier: Apache-2.0
"""Every handler called directly with a Context on a temporary SQLite file."""

from __future__ import annotations

import msgspec
import pytest

from claude_mem.handlers import context_pack, events, memories, projects, search, sessions, system, transfer
from claude_mem.handlers import contracts as c
from claude_mem.handlers.audit import list_audit
from claude_mem.handlers.drain import DrainIn, drain
from claude_mem.handlers.errors import Conflict, Invalid, NotFound
from support import hook_sample


def post(ctx, event_type="tool_use", payload=None, session="s-1", project="acme", **kw):
    req = c.EventIn(project=project, content_session_id=session, event_type=event_type,
                    payload=payload or {}, **kw)
    return events.ingest_event(req, ctx)


def drain_all(ctx, session_id):
    return drain(DrainIn(session_id=session_id), ctx)


def test_health_and_info(ctx):
    assert system.healthz(c.Empty(), ctx).status == "ok"
    info = system.info(c.Empty(), ctx)
    assert info.schema_version >= 2 and info.auth_mode == "local-dev"
    assert info.sqlite["fts5"] is True
    assert system.readyz(c.Empty(), ctx).checks["database"].ok


def test_projects_create_list_get_and_conflict(ctx):
    p = projects.create_project(c.ProjectCreate(name="acme"), ctx).project
    with pytest.raises(Conflict):
        projects.create_project(c.ProjectCreate(name="acme"), ctx)
    assert [x.name for x in projects.list_projects(c.ProjectListIn(), ctx).projects] == ["acme"]
    got = projects.get_project(c.ById(id=p.id), ctx).project
    assert got.id == p.id and got.memory_count == 0
    with pytest.raises(NotFound):
        projects.get_project(c.ById(id="prj_nope"), ctx)


def test_session_start_is_idempotent_and_end_adds_a_summary_event(ctx):
    a = sessions.start_session(c.SessionStart(project="acme", content_session_id="abc"), ctx)
    b = sessions.start_session(c.SessionStart(project="acme", content_session_id="abc"), ctx)
    assert a.created and not b.created and a.session.id == b.session.id
    other = sessions.start_session(c.SessionStart(project="acme", content_session_id="abc",
                                                  platform_source="codex"), ctx)
    assert other.session.id != a.session.id
    ended = sessions.end_session(c.ById(id=a.session.id), ctx)
    assert ended.session.status == "ended" and ended.event is not None
    again = sessions.end_session(c.ById(id=a.session.id), ctx)
    assert again.event is None  # ending twice appends nothing
    assert sessions.get_session_handler(c.ById(id=a.session.id), ctx).session.ended_at_epoch


def test_ingest_assigns_seq_and_replays_return_the_first_event(ctx):
    sample = hook_sample("post_tool_use.bash")
    first = post(ctx, payload=sample)
    again = post(ctx, payload=sample)
    assert not first.duplicate and again.duplicate
    assert again.event.id == first.event.id
    second = post(ctx, payload={**sample, "tool_use_id": "toolu_other"})
    assert second.event.seq == first.event.seq + 1
    with ctx.store.read() as db:
        assert db.execute("select count(*) from events").fetchone()[0] == 2


def test_replay_without_a_source_id_is_recognised_by_its_time_and_content(ctx):
    a = post(ctx, "prompt", {"prompt": "fix the login"}, occurred_at_epoch=1_700_000_000_000)
    b = post(ctx, "prompt", {"prompt": "fix the login"}, occurred_at_epoch=1_700_000_000_000)
    assert b.duplicate and a.event.id == b.event.id


def test_drain_distils_in_seq_order_and_links_memories_to_events(ctx):
    ids = [post(ctx, payload=hook_sample(n)).event for n in
           ("post_tool_use.read", "post_tool_use.edit", "post_tool_use.bash")]
    out = drain_all(ctx, ids[0].session_id)
    assert out.processed == 3 and not out.more
    ev = events.get_event(c.ById(id=ids[1].id), ctx).event
    assert ev.status == "done" and len(ev.memory_ids) == 1
    mem = memories.get_memory(c.ById(id=ev.memory_ids[0]), ctx).memory
    assert mem.type == "change" and mem.files_modified == ["/home/dev/acme-api/src/auth/refresh.ts"]
    assert mem.source_event_ids == [ids[1].id]
    # idempotent: draining again writes nothing new
    assert drain_all(ctx, ids[0].session_id).processed == 0
    with ctx.store.read() as db:
        assert db.execute("select count(*) from memories").fetchone()[0] == 3
        created = [r[0] for r in db.execute("select created_at from memories order by pk")]
    assert created == sorted(created)


def test_a_poison_event_is_retried_then_failed_and_the_session_goes_on(ctx):
    sid = post(ctx, "prompt", {"prompt": "first"}).event.session_id
    post(ctx, "prompt", {"prompt": "second"})
    calls = []

    def flaky(kind, payload, prior):
        calls.append(payload.get("prompt"))
        if payload.get("prompt") == "first":
            raise ValueError("distiller broke")
        from claude_mem.handlers.distiller import distil
        return distil(kind, payload, prior)

    clock = [10_000_000]
    ctx.clock = lambda: clock[0]
    for _ in range(ctx.settings.max_attempts):
        drain(DrainIn(session_id=sid), ctx, distiller=flaky)
        clock[0] += 60_000  # past any backoff
    with ctx.store.read() as db:
        rows = db.execute("select status, attempts, last_error from events order by seq").fetchall()
    assert rows[0]["status"] == "failed" and rows[0]["attempts"] == ctx.settings.max_attempts
    assert "distiller broke" in rows[0]["last_error"]
    assert rows[1]["status"] == "done"
    failed_id = ctx.store.conn().execute("select id from events where status='failed'").fetchone()[0]
    retried = events.retry_event(c.ById(id=failed_id), ctx).event
    assert retried.status == "pending" and retried.attempts == 0
    drain_all(ctx, sid)
    assert events.get_event(c.ById(id=failed_id), ctx).event.status == "done"


def test_a_slow_distiller_does_not_hold_the_write_lock(quiet_services):
    """An LLM distiller may take seconds: ingest from another thread goes through meanwhile."""
    import threading

    from claude_mem.handlers.context import Principal
    from claude_mem.handlers.distiller import distil
    ctx = quiet_services.context(Principal.local())
    sid = post(ctx, "prompt", {"prompt": "first"}).event.session_id
    outcome: list = []

    def slow(kind, payload, prior):
        def ingest_elsewhere():
            try:
                outcome.append(post(quiet_services.context(Principal.local()), "prompt", {"prompt": "meanwhile"},
                                    session="s-2").event.status)
            except Exception as exc:  # "database is locked" if the drain held the write lock
                outcome.append(exc)
        t = threading.Thread(target=ingest_elsewhere)
        t.start()
        t.join(30)
        return distil(kind, payload, prior)

    assert drain(DrainIn(session_id=sid), ctx, distiller=slow).processed == 1
    assert outcome == ["pending"]


def test_batch_items_fail_alone_and_leave_nothing_half_written(ctx):
    good = {"project": "acme", "contentSessionId": "s1", "eventType": "prompt", "payload": {"prompt": "hi"}}
    out = events.ingest_batch(c.EventBatchIn(events=[
        good,
        {"project": "acme", "contentSessionId": "s1", "eventType": "bogus"},
        {"projectId": "prj_missing", "contentSessionId": "s2", "eventType": "prompt"},
        "not an object",
        {**good, "payload": {"prompt": "two"}},
    ]), ctx)
    assert [r.error is None for r in out.results] == [True, False, False, False, True]
    assert out.results[1].error.issues[0]["path"] == "$.events[1].eventType"
    assert out.results[2].error.error == "NotFound"
    assert out.accepted == 2 and out.rejected == 3
    with ctx.store.read() as db:
        assert db.execute("select count(*) from sessions").fetchone()[0] == 1
        assert db.execute("select count(*) from events").fetchone()[0] == 2


def test_private_tags_and_secrets_never_reach_storage(ctx):
    secret = "ghp_" + "A" * 36
    post(ctx, "prompt", {"prompt": f"use token {secret} <private>my diary</private> please"})
    with ctx.store.read() as db:
        payload = db.execute("select payload from events").fetchone()[0]
    assert secret not in payload and "my diary" not in payload
    assert "[REDACTED:github_token]" in payload


def test_memories_create_get_patch_supersede(ctx):
    m = memories.create_memory(c.MemoryCreate(project="acme", narrative="Use WAL for SQLite.",
                                              kind="decision", files_modified=["db.py"]), ctx).memory
    assert m.title == "Use WAL for SQLite." and m.type == "decision"
    patched = memories.patch_memory(c.MemoryPatch(id=m.id, title="WAL mode", facts=["readers never block"]), ctx)
    assert patched.memory.title == "WAL mode" and patched.memory.narrative == m.narrative
    out = memories.supersede_memory(c.Supersede(id=m.id, narrative="Use WAL2 for SQLite."), ctx)
    assert out.memory.superseded_by == out.superseded_by.id
    hits = search.search(c.SearchIn(query="sqlite"), ctx).results
    assert [h.id for h in hits] == [out.superseded_by.id]
    hits = search.search(c.SearchIn(query="sqlite", include_superseded=True), ctx).results
    assert {h.id for h in hits} == {m.id, out.superseded_by.id}
    with pytest.raises(Invalid):
        memories.supersede_memory(c.Supersede(id=m.id), ctx)


def test_search_filters_scores_and_identifier_splitting(ctx):
    a = memories.create_memory(c.MemoryCreate(project="acme", narrative="rotate refreshToken on use",
                                              files_modified=["/src/auth/refresh.ts"]), ctx).memory
    memories.create_memory(c.MemoryCreate(project="other", narrative="the refresh token is cached"), ctx)
    hits = search.search(c.SearchIn(query="refresh token"), ctx).results
    assert len(hits) == 2 and all(h.score > 0 for h in hits)
    only = search.search(c.SearchIn(query="refresh token", project="acme"), ctx).results
    assert [h.id for h in only] == [a.id]
    by_file = search.search(c.SearchIn(query="", files=["auth/refresh.ts"]), ctx).results
    assert [h.id for h in by_file] == [a.id]
    assert search.search(c.SearchIn(query='"AND OR NEAR( *'), ctx).mode == "hybrid"
    assert search.search(c.SearchIn(query="refresh", kinds=["summary"]), ctx).results == []


def test_forget_by_ids_and_by_filter_erases_text_and_hides_it(ctx):
    sid = post(ctx, payload=hook_sample("post_tool_use.bash")).event.session_id
    drain_all(ctx, sid)
    [mid] = ctx.store.conn().execute("select id from memories").fetchone()
    assert search.search(c.SearchIn(query="git log"), ctx).results
    out = memories.forget(c.ForgetIn(ids=[mid]), ctx)
    assert out.forgotten == [mid]
    assert search.search(c.SearchIn(query="git log"), ctx).results == []
    assert mid not in context_pack.build_context(c.ContextIn(project="acme"), ctx).memory_ids
    with ctx.store.read() as db:
        row = db.execute("select narrative, forgotten_at from memories where id = ?", (mid,)).fetchone()
        payload = db.execute("select payload from events").fetchone()[0]
    assert row["narrative"] == "" and row["forgotten_at"] and "git log" not in payload
    memories.create_memory(c.MemoryCreate(project="acme", narrative="keep me"), ctx)
    memories.create_memory(c.MemoryCreate(project="gone", narrative="drop me"), ctx)
    assert memories.forget(c.ForgetIn(project="gone"), ctx).count == 1
    assert [h.title for h in search.search(c.SearchIn(query="me"), ctx).results] == ["keep me"]
    with pytest.raises(Invalid):
        memories.forget(c.ForgetIn(), ctx)


def test_timeline_around_an_anchor_in_time_order(ctx):
    ids = []
    for i in range(7):
        ctx.clock = lambda i=i: 1_000_000 + i * 1000
        ids.append(memories.create_memory(c.MemoryCreate(project="acme", narrative=f"step {i}"), ctx).memory.id)
    out = search.timeline(c.TimelineIn(anchor=ids[3], before=2, after=1), ctx)
    assert out.anchor == ids[3] and [m.id for m in out.memories] == ids[1:5]
    by_query = search.timeline(c.TimelineIn(query="step 5", before=1, after=0), ctx)
    assert by_query.anchor == ids[5]
    with pytest.raises(Invalid):
        search.timeline(c.TimelineIn(anchor=ids[0], query="x"), ctx)


def test_context_pack_stays_within_budget_and_is_deterministic(ctx):
    for i in range(200):
        memories.create_memory(c.MemoryCreate(project="acme", narrative=f"memory number {i} " + "x" * 300,
                                              title=f"title {i}"), ctx)
    out = context_pack.build_context(c.ContextIn(project="acme", token_budget=300), ctx)
    assert out.tokens <= 300 and out.context.startswith("# Memory: acme")
    assert "GET /v1/memories/{id}" in out.context
    again = context_pack.build_context(c.ContextIn(project="acme", token_budget=300), ctx)
    assert again.context == out.context
    default = context_pack.build_context(c.ContextIn(project="acme"), ctx)
    assert default.tokens <= ctx.settings.context_tokens
    assert len(default.context.encode()) < 10_000
    relevant = context_pack.build_context(c.ContextIn(project="acme", query="number 7"), ctx)
    assert "## Relevant" in relevant.context


def test_session_end_produces_a_summary_from_the_session(ctx):
    post(ctx, "prompt", {"prompt": "Fix the refresh token bug"})
    post(ctx, payload=hook_sample("post_tool_use.edit"))
    sid = post(ctx, "session_end", {"reason": "other"}).event.session_id
    drain_all(ctx, sid)
    hits = search.search(c.SearchIn(query="refresh", kinds=["summary"]), ctx).results
    assert len(hits) == 1 and hits[0].title.startswith("Session: Fix the refresh token bug")
    pack = context_pack.build_context(c.ContextIn(project="acme"), ctx).context
    assert "## Recent sessions" in pack


def test_audit_records_ids_and_counts_never_text(ctx):
    m = memories.create_memory(c.MemoryCreate(project="acme", narrative="very secret plan"), ctx).memory
    search.search(c.SearchIn(query="plan"), ctx)
    memories.forget(c.ForgetIn(ids=[m.id]), ctx)
    entries = list_audit(c.AuditIn(), ctx).entries
    assert [e.action for e in entries] == ["memory.forgotten", "memory.served", "memory.written"]
    assert all("secret" not in msgspec.json.encode(e).decode() for e in entries)
    assert [e.action for e in list_audit(c.AuditIn(action="memory.served"), ctx).entries] == ["memory.served"]


def test_export_import_round_trip_is_byte_identical(ctx, tmp_path, settings):
    from claude_mem.handlers.context import Principal
    from claude_mem.runtime.services import Services
    from claude_mem.runtime.settings import load
    for n in ("post_tool_use.read", "post_tool_use.edit", "post_tool_use.bash"):
        post(ctx, payload=hook_sample(n))
    sid = post(ctx, "session_end", {}).event.session_id
    drain_all(ctx, sid)
    m = memories.create_memory(c.MemoryCreate(project="notes", narrative="to forget"), ctx).memory
    memories.forget(c.ForgetIn(ids=[m.id]), ctx)
    memories.create_memory(c.MemoryCreate(project="notes", narrative="kept", facts=["a", "b"],
                                          metadata={"k": [1, 2]}), ctx)
    first = b"".join(transfer.export(c.ExportIn(), ctx))
    other = Services(load({"CLAUDE_MEM_DATA_DIR": str(tmp_path / "other")}), queue=None)
    octx = other.context(Principal.local())
    result = transfer.import_lines(c.ImportIn(lines=[first]), octx)
    assert result.errors == [] and result.imported["memories"] == 6
    second = b"".join(transfer.export(c.ExportIn(), octx))
    assert first.split(b"\n", 1)[1] == second.split(b"\n", 1)[1]
    again = transfer.import_lines(c.ImportIn(lines=[first]), octx)
    assert sum(again.imported.values()) == 0 and again.skipped["memories"] == 6
    assert search.search(c.SearchIn(query="refresh"), octx).results
    other.close()


def test_import_reports_bad_lines_and_keeps_the_rest(ctx):
    lines = [b'{"record":"header","format":"claude-mem-export","version":1}',
             b'{"record":"project","id":"prj_X","name":"imp","createdAtEpoch":1,"metadata":{}}',
             b'{not json',
             b'{"record":"memory","id":"mem_1","projectId":"prj_missing"}',
             b'{"record":"memory","id":"mem_2","projectId":"prj_X","sessionId":null,"kind":"note",'
             b'"type":null,"title":"t","subtitle":"","narrative":"imported text","facts":[],"concepts":[],'
             b'"filesRead":[],"filesModified":[],"metadata":{},"createdAtEpoch":5,"updatedAtEpoch":5,'
             b'"supersededBy":null}']
    out = transfer.import_lines(c.ImportIn(lines=[b"\n".join(lines)]), ctx)
    assert out.imported["projects"] == 1 and out.imported["memories"] == 1
    assert [e["line"] for e in out.errors] == [3, 4]
    assert search.search(c.SearchIn(query="imported"), ctx).results


def test_reindex_rebuilds_the_full_text_index(ctx):
    memories.create_memory(c.MemoryCreate(project="acme", narrative="alpha beta"), ctx)
    ctx.store.conn().execute("delete from memories_fts")
    assert search.search(c.SearchIn(query="alpha", mode="fts"), ctx).results == []
    out = transfer.reindex(c.Empty(), ctx)
    assert out.memories == 1 and out.vectors == 1
    assert search.search(c.SearchIn(query="alpha", mode="fts"), ctx).results


def test_vector_and_hybrid_search_find_meaning_without_shared_words(ctx):
    car = memories.create_memory(c.MemoryCreate(project="acme", narrative="We bought a new car for the team"), ctx)
    memories.create_memory(c.MemoryCreate(project="acme", narrative="The cat sleeps on the keyboard"), ctx)
    assert search.search(c.SearchIn(query="automobile purchase", mode="fts"), ctx).results == []
    vec = search.search(c.SearchIn(query="automobile purchase", mode="vector"), ctx)
    assert vec.mode == "vector" and vec.results[0].id == car.memory.id
    hybrid = search.search(c.SearchIn(query="automobile purchase"), ctx)
    assert hybrid.mode == "hybrid" and hybrid.results[0].id == car.memory.id
    only_notes = search.search(c.SearchIn(query="automobile", mode="vector", kinds=["summary"]), ctx)
    assert only_notes.results == []


def test_without_an_embedder_search_is_full_text_and_says_so(ctx):
    ctx.embedder = None
    memories.create_memory(c.MemoryCreate(project="acme", narrative="plain words"), ctx)
    out = search.search(c.SearchIn(query="plain", mode="vector"), ctx)
    assert out.mode == "fts" and len(out.results) == 1


def test_forgotten_memories_leave_the_vector_index(ctx):
    m = memories.create_memory(c.MemoryCreate(project="acme", narrative="We bought a new car"), ctx).memory
    memories.forget(c.ForgetIn(ids=[m.id]), ctx)
    assert search.search(c.SearchIn(query="automobile", mode="vector"), ctx).results == []
    with ctx.store.read() as db:
        assert db.execute("select count(*) from memories_vec").fetchone()[0] == 0


def test_an_empty_list_serves_nothing_and_writes_no_audit_row(ctx):
    """The viewer's stream polls every second: polls that find nothing must not fill the audit
    log (nor take the write lock); a poll that serves memories is recorded."""
    count = lambda: ctx.store.conn().execute("select count(*) from audit_log").fetchone()[0]  # noqa: E731
    projects.create_project(c.ProjectCreate(name="nothing-here"), ctx)
    before = count()
    for _ in range(3):
        assert memories.list_memories(c.MemoryListIn(project="nothing-here"), ctx).memories == []
    assert count() == before
    memories.create_memory(c.MemoryCreate(project="nothing-here", narrative="now there is"), ctx)
    after_write = count()
    assert len(memories.list_memories(c.MemoryListIn(project="nothing-here"), ctx).memories) == 1
    assert count() == after_write + 1


def _session(ctx, external):
    return sessions.start_session(c.SessionStart(project="acme", content_session_id=external), ctx).session.id


def test_hybrid_search_brings_in_the_conversation_around_a_hit(ctx):
    """The answer that follows a matching question shares no word with the query; hybrid search
    ranks it right after the hit, fts mode does not; a neighbour in another session, a forgotten
    neighbour and a filtered-out neighbour are never brought in."""
    add = lambda text, sid, **kw: memories.create_memory(  # noqa: E731
        c.MemoryCreate(project="acme", narrative=text, session_id=sid, **kw), ctx).memory
    one, two = _session(ctx, "one"), _session(ctx, "two")
    gone = add("Caroline: I painted the fence blue", one)
    question = add("Caroline: What are your plans for the summer holidays?", one)
    answer = add("Melanie: We are taking the kids camping by the lake", one, kind="decision")
    add("Caroline: That sounds lovely, send photos", one)
    far = add("Melanie: The lake trip was last year too", one)  # three steps away
    other = add("Melanie: Our neighbours went camping as well", two)
    for i in range(8):
        add(f"Melanie: Dinner number {i} was pasta with tomato sauce", two)
    memories.forget(c.ForgetIn(ids=[gone.id]), ctx)

    hybrid = [h.id for h in search.search(c.SearchIn(query="summer holidays plans"), ctx).results]
    assert hybrid[:2] == [question.id, answer.id]
    assert gone.id not in hybrid
    fts_only = [h.id for h in search.search(c.SearchIn(query="summer holidays plans", mode="fts"), ctx).results]
    assert fts_only == [question.id]
    notes = [h.id for h in search.search(c.SearchIn(query="summer holidays plans", kinds=["note"]), ctx).results]
    assert answer.id not in notes and question.id in notes
    assert far.id != hybrid[2] and other.id != hybrid[2]


def test_a_query_with_a_common_word_scores_the_memories_with_its_rarer_words(ctx, monkeypatch):
    """A word held by RARE_MAX memories or more is left out of the any-word stage when rarer words
    fill the list: the memory with every word leads, the memories with the rare word follow, and
    memories with only the common word are not scored. `fts` mode still gives every lexical match
    when the rarer words leave the list short."""
    monkeypatch.setattr(search, "RARE_MAX", 5)
    add = lambda project, text: memories.create_memory(  # noqa: E731
        c.MemoryCreate(project=project, narrative=text), ctx).memory.id
    for i in range(50):
        add("c", f"unrelated note number {i} about lunch")
    common = [add("a", f"deploy step {i} of the release train") for i in range(7)]
    common.append(add("a", "deploy deploy deploy deploy"))  # BM25 would rank this over the long ones
    filler = " ".join(f"word{i}" for i in range(30))
    rare = [add("b", f"the zanzibar mirror answered slowly, run {i}: {filler}") for i in range(3)]
    both = add("b", "deploy to the zanzibar mirror")
    fts_short = [h.id for h in search.search(c.SearchIn(query="deploy zanzibar", mode="fts", limit=4), ctx).results]
    assert fts_short[0] == both and set(fts_short[1:]) == set(rare)
    scores = [h.score for h in search.search(c.SearchIn(query="deploy zanzibar", mode="fts", limit=4), ctx).results]
    assert scores == sorted(scores, reverse=True)
    fts_long = [h.id for h in search.search(c.SearchIn(query="deploy zanzibar", mode="fts", limit=20), ctx).results]
    assert fts_long[0] == both and set(common) <= set(fts_long)
    hybrid = [h.id for h in search.search(c.SearchIn(query="deploy zanzibar", limit=4), ctx).results]
    assert hybrid[0] == both and set(hybrid[1:]) == set(rare)
