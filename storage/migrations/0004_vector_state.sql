-- SPDX-License-Identifier: Apache-2.0
-- What an in-process copy of a team's vectors needs to stay exact: the highest memory pk whose
-- vector is written (appends past it are read incrementally) and a generation bumped by any other
-- change (a vector rewritten, forgotten, or written out of order), which forces a full reload.
create table vector_state (
    team_id text primary key,
    max_pk integer not null default 0,
    generation integer not null default 0
);
-- A database from before this table: every existing vector is below its team's highest pk.
insert into vector_state (team_id, max_pk) select team_id, max(pk) from memories group by team_id;
