# SPDX-License-Identifier: Apache-2.0
"""Search (a compact, scored index of memories) and timeline (memories around an anchor).

Progressive disclosure: search and timeline return ids, titles and snippets; `get` returns the
full memory. No hidden recency cut-off.
"""

from __future__ import annotations

from typing import Any

from claude_mem.storage import fts
from claude_mem.storage import memories as memories_repo
from claude_mem.storage.memories import Filters

from . import contracts as c
from . import views
from .audit import record
from .context import Context
from .errors import Invalid, NotFound
from .memories import get_visible
from .scoping import get_session, visible_project_ids


def _snippet(row: Any, snip: str | None) -> str:
    if snip and "[" in snip:
        return " ".join(snip.split())
    text = " ".join((row["narrative"] or row["subtitle"]).split())
    return text[:200] + ("…" if len(text) > 200 else "")


def filters_for(ctx: Context, db: Any, req: c.SearchIn) -> Filters:
    if req.session_id:
        get_session(ctx, db, req.session_id)
    return Filters(
        project_ids=visible_project_ids(ctx, db, name=req.project, project_id=req.project_id,
                                        project_ids=req.project_ids),
        kinds=req.kinds, types=req.types, files=req.files, session_id=req.session_id,
        since=req.since_epoch, until=req.until_epoch, include_superseded=req.include_superseded)


RRF_K = 10  # measured on LoCoMo (bench/locomo.py): a small k trusts the top of each list more
VECTOR_WEIGHT = 0.5  # the dense list counts half: measured best on LoCoMo (bench/locomo.py)
CANDIDATES = 50
MATCHES_MAX = 20_000  # every-word matches ordered by meaning in hybrid search; past it, BM25
PAGES_MAX = 4  # pages of them read through the filters before BM25 with the filters in SQL takes over
RARE_MAX = 1_000  # a word in this many memories or more is common: see _any_words
# Session context: a memory is read in the conversation around it. The best hits lend a share of
# their score to the memories next to them in their session (the answer after the question that
# matched, the fix after the failing test), never lifting one past the hit that lent it. Measured
# on LoCoMo (bench/locomo.py, through REST): recall@5 0.564 -> 0.620, recall@10 0.646 -> 0.716;
# the same share and window did as well on either half of its conversations alone.
CONTEXT_SOURCES = 10
CONTEXT_WINDOW = 2
CONTEXT_SHARE = 0.4


def run_search(ctx: Context, db: Any, req: c.SearchIn, *,
               snippets: bool = True) -> tuple[list[c.SearchHit], str]:
    """The ranked hits and the mode actually used: `fts` when there is no vector index. Without
    `snippets` (the context pack renders whole memories) no snippet is cut."""
    f = filters_for(ctx, db, req)
    team = ctx.principal.team_id
    match = fts.match_expression(req.query)
    mode = req.mode if ctx.embed is not None else "fts"
    if match is None and (mode == "fts" or not req.query.strip()):
        rows = memories_repo.recent(db, team, f, req.limit)
        return [_hit(r, None, 0.0) for r in rows], mode
    depth = max(req.limit, CANDIDATES) if mode == "hybrid" else req.limit
    if mode == "fts":
        fts_rows = _fts(db, team, req.query, match, f, depth) if match else []
        snips = memories_repo.snippets(db, req.query, match, fts_rows) if snippets else {}
        return [_hit(r, snips.get(r["pk"]), round(-r["rank"], 6)) for r in fts_rows], mode
    query_vector = ctx.embed([req.query])[0]
    fts_rows = _fts_for_hybrid(ctx, db, team, req.query, match, f, depth, query_vector) \
        if match and mode == "hybrid" else []
    qvec = query_vector.tobytes()
    vec_rows = memories_repo.search_vector(db, team, qvec, f, depth, cache=ctx.vectors)
    if mode == "vector":
        return [_hit(r, None, round(1.0 - d, 6)) for r, d in vec_rows], mode
    # Weighted reciprocal-rank fusion of the two lists.
    scores: dict[str, float] = {}
    rows: dict[str, Any] = {}
    for rank, r in enumerate(fts_rows):
        scores[r["id"]] = scores.get(r["id"], 0.0) + 1.0 / (RRF_K + rank + 1)
        rows[r["id"]] = r
    from_fts = set(rows)
    for rank, (r, _) in enumerate(vec_rows):
        scores[r["id"]] = scores.get(r["id"], 0.0) + VECTOR_WEIGHT / (RRF_K + rank + 1)
        rows.setdefault(r["id"], r)
    _spread_to_neighbours(db, team, f, scores, rows)
    ranked = sorted(scores, key=lambda mid: (-scores[mid], mid))[: req.limit]
    snips = memories_repo.snippets(db, req.query, match, [rows[mid] for mid in ranked if mid in from_fts]) \
        if match and snippets else {}
    return [_hit(rows[mid], snips.get(rows[mid]["pk"]), round(scores[mid], 6)) for mid in ranked], mode


def _spread_to_neighbours(db: Any, team: str, f: Filters, scores: dict[str, float],
                          rows: dict[str, Any]) -> None:
    """Add CONTEXT_SHARE of each top hit's score to the memories within CONTEXT_WINDOW of it in
    its session, up to just under the best hit that lent to each; neighbours that were not
    candidates come in when they pass the filters. Updates `scores` and `rows`."""
    sources = sorted(scores, key=lambda mid: (-scores[mid], mid))[:CONTEXT_SOURCES]
    near = memories_repo.neighbours(db, team, [rows[mid] for mid in sources], CONTEXT_WINDOW)
    by_pk = {r["pk"]: r for r in rows.values()}
    missing = {pk for pks in near.values() for pk in pks if pk not in by_pk}
    for r in memories_repo.rows_matching(db, team, sorted(missing), f):
        by_pk[r["pk"]] = r
    lent: dict[str, float] = {}
    ceiling: dict[str, float] = {}
    for mid in sources:
        for pk in near[rows[mid]["pk"]]:
            r = by_pk.get(pk)
            if r is None:  # filtered out
                continue
            rows.setdefault(r["id"], r)
            lent[r["id"]] = lent.get(r["id"], 0.0) + CONTEXT_SHARE * scores[mid]
            ceiling[r["id"]] = max(ceiling.get(r["id"], 0.0), scores[mid] * 0.999)
    for mid, extra in lent.items():
        own = scores.get(mid, 0.0)
        scores[mid] = max(own, min(own + extra, ceiling[mid]))


def _fts_for_hybrid(ctx: Context, db: Any, team: str, query: str, match: str, f: Filters, depth: int,
                    query_vector: Any) -> list[Any]:
    """The full-text list of a hybrid search. The memories with every query word come first, in
    order of meaning (the query vector's cosine, from the in-memory vectors) rather than by BM25:
    among memories that all hold every word, BM25 only weighs word counts and lengths, and it
    costs a few microseconds a memory, most of a search when a thousand match at 100k memories.
    When they do not fill the list, `_any_words` adds the memories with some of the words."""
    every = fts.match_all_expression(query)
    if every is None or ctx.vectors is None or (
            f.project_ids and fts.within_projects(every, f.project_ids) == every):  # unscoped by FTS5
        return _fts(db, team, query, match, f, depth, exhaustive=False)
    import numpy as np
    pks = memories_repo.fts_rowids(db, every, f.project_ids)
    sims = ctx.vectors.cosine(db, team, query_vector, pks) if len(pks) <= MATCHES_MAX else None
    if sims is None:  # vectors still loading, or past MATCHES_MAX
        return _fts(db, team, query, match, f, depth, exhaustive=False)
    mine = np.flatnonzero(np.isfinite(sims))  # the team's memories with a vector
    order = mine[np.lexsort((np.asarray(pks)[mine], -sims[mine]))]  # most similar first
    first: list[Any] = []
    step = depth + 16  # most pass the filters: a page, and more only if needed
    for start in range(0, min(len(order), PAGES_MAX * step), step):  # the filters, page by page
        page = [(pks[i], float(sims[i])) for i in order[start:start + step]]
        found = {r["pk"]: r for r in memories_repo.rows_matching(db, team, [pk for pk, _ in page], f)}
        first += [memories_repo.Scored(found[pk], -sim) for pk, sim in page if pk in found]
        if len(first) >= depth:
            return first[:depth]
    if len(order) > PAGES_MAX * step:  # filters that keep few of many: let SQL apply them
        return _fts(db, team, query, match, f, depth, exhaustive=False)
    return _any_words(db, team, query, match, f, depth, first, exhaustive=False)


def _fts(db: Any, team: str, query: str, match: str, f: Filters, depth: int, exhaustive: bool = True) -> list[Any]:
    """BM25 over the memories with every query word first: when they fill the page, the much
    larger set with any word need not be scored (BM25 ranks most of it below them; a memory with
    fewer but rarer words can be missed, which the vector side of hybrid search makes up for)."""
    every = fts.match_all_expression(query)
    first: list[Any] = []
    if every is not None:
        first = memories_repo.search_fts(db, team, every, f, depth)
        if len(first) >= depth:
            return first
    return _any_words(db, team, query, match, f, depth, first, exhaustive)


def _any_words(db: Any, team: str, query: str, match: str, f: Filters, depth: int, first: list[Any],
               exhaustive: bool) -> list[Any]:
    """Fill the full-text list past `first` (the memories with every word) with BM25 over the
    memories with any word. A word held by RARE_MAX memories or more is left out of that when
    the query has rarer words: BM25 weighs it little, and scoring the tens of thousands of
    memories a common word is in would take most of a second at 100k memories. `first` then
    leads and the memories with a rarer word follow. When that still leaves the list short,
    every word is scored if `exhaustive` (`fts` mode, which promises every lexical match);
    hybrid search keeps the short list, and its vector list fills the rest."""
    terms = fts.query_terms(query)
    rare = [t for t in terms
            if memories_repo.fts_count_upto(db, fts.any_of([t]), f.project_ids, RARE_MAX) < RARE_MAX]
    if len(rare) == len(terms):
        return memories_repo.search_fts(db, team, match, f, depth)
    seen = {r["pk"] for r in first}
    more = [r for r in memories_repo.search_fts(db, team, fts.any_of(rare), f, depth)
            if r["pk"] not in seen] if rare else []
    if exhaustive and len(first) + len(more) < depth:
        return memories_repo.search_fts(db, team, match, f, depth)
    if first and more:  # keep the scores falling: the rare-word list goes on below `first`
        shift = max(0.0, max(r["rank"] for r in first) - more[0]["rank"])
        more = [memories_repo.Scored(r, r["rank"] + shift) for r in more]
    return (first + more)[:depth]


def _hit(row: Any, snip: str | None, score: float) -> c.SearchHit:
    return c.SearchHit(id=row["id"], kind=row["kind"], type=row["type"], title=row["title"],
                       snippet=_snippet(row, snip), score=score, project_id=row["project_id"],
                       session_id=row["session_id"], created_at_epoch=row["created_at"])


def search(req: c.SearchIn, ctx: Context) -> c.SearchResult:
    with ctx.store.read() as db:  # a snapshot: searches never hold the write lock
        hits, mode = run_search(ctx, db, req)
    with ctx.store.write() as db:
        record(ctx, db, "memory.served", count=len(hits), detail={"via": "search"})
    return c.SearchResult(results=hits, mode=mode, query=req.query)


def timeline(req: c.TimelineIn, ctx: Context) -> c.TimelineOut:
    if req.anchor and req.query:
        raise Invalid("$.anchor", "give an anchor or a query, not both")
    team = ctx.principal.team_id
    with ctx.store.write() as db:
        project_ids = visible_project_ids(ctx, db, name=req.project, project_id=req.project_id)
        anchor = None
        if req.anchor:
            anchor = get_visible(ctx, db, req.anchor)
            if anchor["forgotten_at"] is not None:
                raise NotFound(f"memory {req.anchor} was forgotten")
        elif req.query:
            hits, _ = run_search(ctx, db, c.SearchIn(query=req.query, project=req.project,
                                                       project_id=req.project_id, limit=1))
            if hits:
                anchor = memories_repo.get(db, team, hits[0].id)
        if anchor is not None:
            f = Filters(project_ids=[anchor["project_id"]])
            rows = memories_repo.around(db, team, anchor, req.before, req.after, f)
        else:
            rows = list(reversed(memories_repo.recent(db, team, Filters(project_ids=project_ids),
                                                      req.before + 1)))
        record(ctx, db, "memory.served", count=len(rows), detail={"via": "timeline"})
    return c.TimelineOut(anchor=anchor["id"] if anchor is not None else None,
                         memories=[views.index_item(r) for r in rows])
