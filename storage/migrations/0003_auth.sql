-- SPDX-License-Identifier: Apache-2.0
-- Team auth: the public keys trusted to verify API keys (the signing key rotates; tokens signed
-- by an earlier key stay valid until revoked), and lookups by team.

create table signing_keys (
    kid             text primary key,          -- PASERK id, k4.pid.…
    public_paserk   text not null,             -- k4.public.…
    created_at      integer not null,
    retired_at      integer                    -- no longer signs; still verifies
);

create index api_keys_team on api_keys (team_id, created_at);
