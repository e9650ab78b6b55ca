-- SPDX-License-Identifier: Apache-2.0
-- Queue state kept with the data it guards: a lease per session for the sqlite engine,
-- and retry bookkeeping per event.

alter table sessions add column lease_owner text;
alter table sessions add column lease_until integer;
alter table events add column next_attempt_at integer;
create index sessions_lease on sessions (lease_until) where lease_owner is not null;
