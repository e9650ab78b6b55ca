-- SPDX-License-Identifier: Apache-2.0
-- A memory's page shows what it replaced: the memories whose superseded_by names it.
create index memories_superseded_by on memories (superseded_by) where superseded_by is not null;
-- The queue page lists a team's failed events, newest first.
create index events_failed on events (team_id, received_at) where status = 'failed';
