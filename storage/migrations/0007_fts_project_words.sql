-- SPDX-License-Identifier: Apache-2.0
-- The FTS5 table gains a `scope` column holding a word that names the memory's project
-- (storage/fts.py project_token): a search inside a project matches that word too, so FTS5
-- scores that project's matches only, not the whole team's. BM25 weighs the column 0, so the
-- ranking is unchanged. Ids with characters other than letters, digits and _ get no word
-- (searches in such a project filter afterwards only).
create virtual table memories_fts_scoped using fts5 (title, body, extra, scope, tokenize = 'porter unicode61');
insert into memories_fts_scoped (rowid, title, body, extra, scope)
    select f.rowid, f.title, f.body, f.extra,
           case when m.project_id not glob '*[^A-Za-z0-9_]*'
                then 'zproj' || lower(replace(m.project_id, '_', '')) else '' end
    from memories_fts f join memories m on m.pk = f.rowid;
drop table memories_fts;
alter table memories_fts_scoped rename to memories_fts;
