# SPDX-License-Identifier: Apache-2.0
"""The in-process vector copy gives exactly what sqlite-vec gives, and stays exact as memories are
added, rewritten, forgotten and reindexed, also when another process wrote them."""

from __future__ import annotations

import random

import numpy as np
import pytest

from claude_mem.handlers import contracts as c
from claude_mem.handlers import memories, search, transfer
from claude_mem.handlers.context import Principal
from claude_mem.runtime.services import Services
from claude_mem.storage import memories as repo
from claude_mem.storage import vector_cache
from claude_mem.storage.memories import Filters
from claude_mem.storage.vector_cache import VectorCache

WORDS = "cache token refresh retry queue worker lock deploy schema index parser render build lint".split()


@pytest.fixture
def filled(quiet_services):
    if quiet_services.embedder is None:
        pytest.skip("no vector index on this Python (sqlite-vec cannot load)")
    quiet_services.vectors.background = False  # load inline, so every search here uses the cache
    ctx = quiet_services.context(Principal.local())
    rng = random.Random(3)
    for i in range(300):
        memories.create_memory(c.MemoryCreate(
            project=f"p{i % 3}", kind=("note", "decision")[i % 2], narrative=" ".join(rng.sample(WORDS, 5)),
            title=f"m{i}"), ctx)
    return quiet_services, ctx


def _both(services: Services, ctx, query: str, f: Filters, k: int = 20):
    qv = ctx.embed([query])[0].tobytes()
    with services.store.read() as db:
        cached = repo.search_vector(db, ctx.principal.team_id, qv, f, k, cache=services.vectors)
        plain = repo.search_vector(db, ctx.principal.team_id, qv, f, k, cache=None)
    return [(r["id"], round(d, 4)) for r, d in cached], [(r["id"], round(d, 4)) for r, d in plain]


def test_the_cache_answers_exactly_what_sqlite_vec_answers(filled):
    services, ctx = filled
    with services.store.read() as db:
        pids = [r[0] for r in db.execute("select id from projects order by name")]
    for query, f in [("refresh token cache", Filters()), ("deploy lock", Filters(project_ids=pids[:1])),
                     ("parser render", Filters(kinds=["decision"])),
                     ("queue worker", Filters(project_ids=pids[1:], kinds=["note"])),
                     ("anything", Filters(project_ids=[]))]:
        cached, plain = _both(services, ctx, query, f)
        assert [m for m, _ in cached] == [m for m, _ in plain], query
        assert np.allclose([d for _, d in cached], [d for _, d in plain], atol=1e-3)


def test_the_cache_follows_appends_rewrites_forgets_and_reindex(filled, settings):
    services, ctx = filled
    run = lambda q: [h.title for h in search.search(c.SearchIn(query=q, mode="vector", limit=3), ctx).results]  # noqa: E731
    run("warm the cache")
    new = memories.create_memory(c.MemoryCreate(project="p0", title="kubernetes",
                                                narrative="helm chart kubernetes ingress"), ctx).memory
    assert run("kubernetes helm ingress")[0] == "kubernetes"
    memories.patch_memory(c.MemoryPatch(id=new.id, title="bananas", narrative="ripe yellow bananas fruit"), ctx)
    assert run("kubernetes helm ingress")[0] != "bananas" and run("yellow bananas fruit")[0] == "bananas"
    memories.forget(c.ForgetIn(ids=[new.id]), ctx)
    assert "bananas" not in run("yellow bananas fruit")
    transfer.reindex(c.Empty(), ctx)
    cached, plain = _both(services, ctx, "retry queue", Filters())
    assert cached == plain
    # Another process (another Services on the same file) writes: this one's cache sees it.
    other = Services(settings, queue=None)
    try:
        memories.create_memory(c.MemoryCreate(project="p1", title="terraform",
                                              narrative="terraform state bucket"), other.context(Principal.local()))
    finally:
        other.close()
    assert run("terraform state bucket")[0] == "terraform"


def test_a_team_over_the_budget_falls_back_to_sqlite_vec(filled):
    services, ctx = filled
    tiny = VectorCache(services.store, max_bytes=10_000, background=False)
    qv = ctx.embed(["refresh token"])[0]
    with services.store.read() as db:
        assert tiny.knn(db, ctx.principal.team_id, qv, 10) is None
        rows = repo.search_vector(db, ctx.principal.team_id, qv.tobytes(), Filters(), 10, cache=tiny)
    assert len(rows) == 10


def test_a_full_load_runs_in_the_background_while_sqlite_vec_answers(filled):
    services, ctx = filled
    cache = VectorCache(services.store, 64 * 1024 * 1024)  # background loading, as in the server
    qv = ctx.embed(["deploy lock"])[0]
    team = ctx.principal.team_id
    try:
        with services.store.read() as db:
            first = cache.knn(db, team, qv, 5)
        from support import wait_for

        def loaded():
            with services.store.read() as db:
                return cache.knn(db, team, qv, 5)
        hits = wait_for(loaded, timeout=30, interval=0.05)
        assert first is None and len(hits) == 5
    finally:
        cache.close()


def test_closing_while_a_load_runs_stops_it_and_leaves_no_connection(filled, monkeypatch):
    """The server stops while a team loads: the loader must stop before the store's connections
    close under it (that crashed the process), and a finished loader must not keep a connection."""
    services, ctx = filled
    monkeypatch.setattr(vector_cache, "CHUNK", 1)  # a load of many small reads, so close lands mid-load
    before = len(services.store._conns)
    cache = VectorCache(services.store, 64 * 1024 * 1024)
    cache.warm(ctx.principal.team_id)
    cache.close()
    assert not any(t.is_alive() for t in cache._threads)
    assert len(services.store._conns) == before
    with services.store.read() as db:  # a closed cache never loads again; sqlite-vec answers
        assert cache.knn(db, ctx.principal.team_id, ctx.embed(["deploy"])[0], 5) is None


def test_the_sign_code_shortlist_keeps_the_exact_top_ten(filled, monkeypatch):
    """Past SHORTLIST vectors, a Hamming shortlist is ranked exactly; its recall of the exact top 10
    stays high even when the shortlist is a fifth of the team."""
    if not vector_cache.HAVE_POPCOUNT:
        pytest.skip("numpy < 2 has no bitwise_count: every search is exact")
    services, ctx = filled
    monkeypatch.setattr(vector_cache, "SHORTLIST", 64)
    found = total = 0
    for query in ["refresh token cache", "deploy lock", "parser render build", "queue worker retry",
                  "schema index lint", "token retry"]:
        cached, plain = _both(services, ctx, query, Filters(), k=10)
        found += len({m for m, _ in cached} & {m for m, _ in plain})
        total += len(plain)
    assert found / total >= 0.8


def test_cosine_reads_the_similarity_of_given_memories(filled):
    services, ctx = filled
    team = ctx.principal.team_id
    qv = ctx.embed(["refresh token cache"])[0]
    with services.store.read() as db:
        rows = db.execute("select pk, id from memories order by pk desc limit 7").fetchall()
        sims = services.vectors.cosine(db, team, qv, [r["pk"] for r in rows] + [10**9])
        plain = repo.search_vector(db, team, qv.tobytes(), Filters(), 300, cache=None)
    distance = {r["pk"]: d for r, d in plain}
    assert sims[-1] == -np.inf  # no such memory (or another team's): no similarity
    assert [round(float(s), 4) for s in sims[:-1]] == [round(1.0 - distance[r["pk"]], 4) for r in rows]


def test_hybrid_orders_memories_with_every_word_by_meaning_when_they_fill_the_list(filled, monkeypatch):
    """Past CANDIDATES memories holding every query word, hybrid search orders them by the
    query's cosine instead of BM25; another team's memories with the same words never come
    back, filters still apply, and forgotten memories leave."""
    from claude_mem.handlers.context import Principal
    from claude_mem.storage import teams
    services, ctx = filled
    monkeypatch.setattr(search, "CANDIDATES", 20)
    team = ctx.principal.team_id
    with services.store.write() as db:
        other_team = teams.create(db, "elsewhere", 0)["id"]
    other = services.context(Principal(team_id=other_team, scopes=frozenset({"admin"})))
    for i in range(40):
        memories.create_memory(c.MemoryCreate(project="p0", narrative=f"deploy schema secret {i}"), other)
    query = "deploy schema"
    with services.store.read() as db:
        every = [r["pk"] for r in repo.search_fts(db, team, '"deploy" AND "schema"', Filters(), 1000)]
        ids = dict(db.execute("select pk, id from memories"))
    assert len(every) >= search.CANDIDATES  # the case under test
    with services.store.read() as db:
        sims = services.vectors.cosine(db, team, ctx.embed([query])[0], every)
    by_meaning = [ids[every[i]] for i in sorted(range(len(every)), key=lambda i: (-sims[i], every[i]))]
    hits = search.search(c.SearchIn(query=query, limit=10), ctx).results
    assert hits[0].id == by_meaning[0]
    assert all("secret" not in h.snippet for h in hits)
    decisions = search.search(c.SearchIn(query=query, limit=10, kinds=["decision"]), ctx).results
    assert decisions and all(h.kind == "decision" for h in decisions)
    assert search.search(c.SearchIn(query=query, limit=10, until_epoch=1), ctx).results == []
    memories.forget(c.ForgetIn(ids=[by_meaning[0]]), ctx)
    after = [h.id for h in search.search(c.SearchIn(query=query, limit=10), ctx).results]
    assert after[0] == by_meaning[1]
