# SPDX-License-Identifier: Apache-2.0
"""Storage: the connection, migrations, ids and the full-text helpers, on real SQLite files."""

from __future__ import annotations

import threading

from claude_mem.storage import fts
from claude_mem.storage import migrate as migrations
from claude_mem.storage.connection import capabilities, connect
from claude_mem.storage.ids import new_id, ulid
from claude_mem.storage.store import Store


def _schema(conn) -> list[tuple]:
    return sorted(tuple(r) for r in conn.execute(
        "select type, name, tbl_name, sql from sqlite_master where name not like 'sqlite_%'"
        " and name != 'schema_migrations'"))


def test_connect_sets_wal_busy_timeout_and_foreign_keys(tmp_path):
    conn = connect(tmp_path / "x.db")
    assert conn.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert conn.execute("pragma busy_timeout").fetchone()[0] >= 5000
    assert conn.execute("pragma foreign_keys").fetchone()[0] == 1


def test_capabilities_report_fts5_and_a_reason_when_vec_is_missing():
    caps = capabilities()
    assert caps.fts5
    assert caps.vec or caps.vec_error


def test_fresh_database_equals_one_upgraded_from_the_first_migration(tmp_path):
    fresh = Store(tmp_path / "fresh.db")
    old = Store(tmp_path / "old.db", migrate=False)
    assert old.migrate(target=1) == [1]
    # Data written under the first schema survives the upgrade.
    with old.write() as db:
        db.execute("insert into projects (id, team_id, name, created_at) values ('prj_1', 'team_local', 'p', 1)")
    applied = old.migrate()
    assert applied == [v.version for v in migrations.available()][1:]
    assert _schema(fresh.conn()) == _schema(old.conn())
    assert old.conn().execute("select name from projects").fetchone()[0] == "p"
    assert fresh.schema_version() == old.schema_version() == migrations.latest_version()


def test_migrations_are_idempotent_and_safe_from_two_threads(tmp_path):
    path = tmp_path / "db.sqlite"
    errors = []

    def run():
        try:
            Store(path).close()
        except Exception as exc:  # pragma: no cover - the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    store = Store(path)
    assert store.migrate() == []
    rows = store.conn().execute("select version from schema_migrations").fetchall()
    assert [r[0] for r in rows] == [m.version for m in migrations.available()]


def test_ids_sort_in_creation_order():
    ids = [ulid() for _ in range(2000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert new_id("mem").startswith("mem_") and len(new_id("mem")) == 30


def test_identifiers_split_so_that_code_names_meet_words():
    assert fts.identifier_parts("refreshToken") == ["refresh", "token"]
    assert fts.identifier_parts("refresh_token") == ["refresh", "token"]
    assert fts.identifier_parts("HTTPServer") == ["http", "server"]
    assert "refresh token" in fts.split_identifiers("call refreshToken()")


def test_fts5_operators_in_a_query_are_only_words():
    expr = fts.match_expression('"AND OR NEAR( * title:x')
    assert expr is not None
    assert all(part.startswith('"') and part.endswith('"') for part in expr.split(" OR "))
    assert fts.match_expression("*** ((( ") is None
    # the expression is valid FTS5 syntax
    conn = connect(":memory:")
    conn.execute("create virtual table t using fts5(x)")
    conn.execute("insert into t values ('near and or title')")
    assert conn.execute("select count(*) from t where t match ?", (expr,)).fetchone()[0] == 1


def test_stopwords_are_dropped_unless_nothing_else_is_left():
    assert fts.query_terms("what is the refresh token") == ["refresh", "token"]
    assert fts.query_terms("the") == ["the"]


def test_snippets_mark_query_words_their_forms_and_identifier_parts():
    text = ("Backups run nightly. The refreshToken rotation was fixed in src/auth/refresh.ts after tokens "
            "expired early; the runbook has more on rotating keys, and on everything else besides.")
    cut = fts.snippet(text, fts.query_terms("refresh token rotate"))
    assert cut.endswith("…") and len(cut.split()) <= 18
    assert "[refreshToken]" in cut and "[rotation]" in cut and "[refresh].ts" in cut and "[tokens]" in cut
    assert fts.snippet(text, fts.query_terms("backups")).startswith("[Backups] run nightly")
    assert fts.snippet("<b>bold</b> move", fts.query_terms("move")) == "<b>bold</b> [move]"
    assert fts.snippet(text, fts.query_terms("kubernetes")) is None  # FTS5 is asked then
    middle = fts.snippet("alpha " * 30 + "beta gamma " + "delta " * 30, ["beta", "gamma"])
    assert middle.startswith("…") and middle.endswith("…") and "[beta] [gamma]" in middle
    assert fts.snippet("cat cart", ["cat"]) == "[cat] cart"  # short terms match exactly


def test_a_match_deep_in_a_long_memory_still_gets_a_marked_snippet(ctx):
    from claude_mem.handlers import contracts as c
    from claude_mem.handlers import memories, search
    filler = "lorem ipsum dolor sit amet " * 400  # 10,800 characters before the match
    memories.create_memory(c.MemoryCreate(project="deep", narrative=filler + "the zanzibar outage"), ctx)
    hit = search.search(c.SearchIn(query="zanzibar", project="deep", mode="fts"), ctx).results[0]
    assert "[zanzibar]" in hit.snippet


def test_memories_indexed_before_project_scoping_are_found_by_project_after_the_migration(tmp_path):
    """Migration 0007 rebuilds the FTS5 table with a `scope` word per project: rows written by
    the old schema must still be found by a search inside their project, odd ids included."""
    from claude_mem.storage import memories as repo
    from claude_mem.storage.memories import Filters
    store = Store(tmp_path / "old.db", migrate=False)
    store.migrate(target=6)
    db = store.conn()
    db.execute("insert into orgs values ('org_1', 'o', 0)")
    db.execute("insert into teams values ('team_1', 'org_1', 't', 0)")
    for pid in ("prj_01ABC", "odd id/1"):
        db.execute("insert into projects (id, team_id, name, created_at) values (?, 'team_1', ?, 0)", (pid, pid))
    for pk, (pid, text) in enumerate([("prj_01ABC", "rotate the refresh token"), ("odd id/1", "refresh token cache"),
                                      ("prj_01ABC", "unrelated deploy note")], start=1):
        db.execute("insert into memories (pk, id, team_id, project_id, kind, narrative, content_hash, created_at,"
                   " updated_at) values (?, ?, 'team_1', ?, 'note', ?, ?, ?, ?)",
                   (pk, f"mem_{pk}", pid, text, pk, pk, pk))
        db.execute("insert into memories_fts (rowid, title, body, extra) values (?, '', ?, '')", (pk, text))
    store.migrate()
    match = fts.match_expression("refresh token")
    with store.read() as db:
        scoped = repo.search_fts(db, "team_1", match, Filters(project_ids=["prj_01ABC"]), 10)
        odd = repo.search_fts(db, "team_1", match, Filters(project_ids=["odd id/1"]), 10)
        everywhere = repo.search_fts(db, "team_1", match, Filters(), 10)
    assert [r["id"] for r in scoped] == ["mem_1"]
    assert [r["id"] for r in odd] == ["mem_2"]
    assert sorted(r["id"] for r in everywhere) == ["mem_1", "mem_2"]
    store.close()


def test_a_search_in_one_project_ranks_as_filtering_the_team_would(ctx):
    """The scope word narrows what FTS5 scores; it must not change the order (BM25 weighs it 0)."""
    from claude_mem.handlers import contracts as c
    from claude_mem.handlers import memories, search
    words = "cache token refresh retry queue worker lock deploy schema index parser render".split()
    for i in range(60):
        memories.create_memory(c.MemoryCreate(project=f"p{i % 3}", narrative=" ".join(
            words[(i * k) % len(words)] for k in range(1, 6 + i % 4))), ctx)
    for query in ("refresh token", "queue worker lock", "schema"):
        hits = search.search(c.SearchIn(query=query, project="p1", mode="fts", limit=50), ctx).results
        with ctx.store.read() as db:
            pid = db.execute("select id from projects where name = 'p1'").fetchone()[0]
            team = [r for r in _unscoped(db, ctx.principal.team_id, query) if r["project_id"] == pid]
        assert [h.id for h in hits] == [r["id"] for r in team][: len(hits)], query


def _unscoped(db, team_id, query):
    from claude_mem.storage import memories as repo
    from claude_mem.storage.memories import Filters
    return repo.search_fts(db, team_id, fts.match_expression(query), Filters(), 1000)


def test_neighbours_follow_the_session_stream_through_equal_times(tmp_path):
    """Neighbours are ordered by (created_at, pk): memories written in the same millisecond keep
    their order; a session's stream and the project's session-less stream never mix; forgotten
    memories are skipped."""
    from claude_mem.storage import memories as repo
    store = Store(tmp_path / "n.db")
    with store.write() as db:
        db.execute("insert into orgs values ('org_1', 'o', 0)")
        db.execute("insert into teams values ('team_1', 'org_1', 't', 0)")
        db.execute("insert into projects (id, team_id, name, created_at) values ('prj_a', 'team_1', 'a', 0)")
        db.execute("insert into sessions (id, team_id, project_id, external_id, platform, status, started_at)"
                   " values ('ses_1', 'team_1', 'prj_a', 'x', 'claude-code', 'active', 0)")
        layout = [(1, "ses_1", 5), (2, None, 5), (3, "ses_1", 5), (4, "ses_1", 5), (5, None, 5),
                  (6, "ses_1", 5), (7, "ses_1", 6), (8, None, 7), (9, "ses_1", 9)]
        for pk, sid, at in layout:
            db.execute("insert into memories (pk, id, team_id, project_id, session_id, kind, content_hash,"
                       " created_at, updated_at, forgotten_at) values (?, ?, 'team_1', 'prj_a', ?, 'note', ?, ?, ?, ?)",
                       (pk, f"mem_{pk}", sid, f"h{pk}", at, at, 1 if pk == 6 else None))
    with store.read() as db:
        rows = {r["pk"]: r for r in db.execute("select * from memories")}
        near = repo.neighbours(db, "team_1", [rows[4], rows[5], rows[1]], 2)
    assert near[4] == [3, 1, 7, 9]  # 6 is forgotten; 2 and 5 have no session
    assert near[5] == [2, 8]
    assert near[1] == [3, 4]
    store.close()


def test_a_title_cut_from_the_narrative_is_embedded_once():
    """Counted twice, a derived title's words outweigh the rest of a mean-pooled vector."""
    from claude_mem.storage.memories import vector_text
    row = {"title": "Caroline: I went to a support group yesterday and it was so powerful, honest…",
           "subtitle": "", "narrative": "Caroline: I went to a support group yesterday and it was so powerful,"
           " honestly the best thing I did this year.", "facts": "[]"}
    assert vector_text(row).count("support group") == 1
    own = dict(row, title="Support groups")
    assert vector_text(own).startswith("Support groups\n")
