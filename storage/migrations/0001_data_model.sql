-- SPDX-License-Identifier: Apache-2.0
-- The data model of DESIGN.md. Every row of memory data carries team_id.

create table orgs (
    id          text primary key,
    name        text not null unique,
    created_at  integer not null
);

create table teams (
    id          text primary key,
    org_id      text not null references orgs(id),
    name        text not null unique,
    created_at  integer not null
);

create table projects (
    id          text primary key,
    team_id     text not null references teams(id),
    name        text not null,
    created_at  integer not null,
    metadata    text not null default '{}',
    unique (team_id, name)
);

create table api_keys (
    id            text primary key,            -- the token's jti
    name          text,
    team_id       text not null references teams(id),
    project_id    text references projects(id),
    scopes        text not null,               -- JSON array
    token_sha256  text not null unique,        -- never the token itself
    created_at    integer not null,
    expires_at    integer,
    revoked_at    integer,
    last_used_at  integer
);

create table sessions (
    id           text primary key,
    team_id      text not null references teams(id),
    project_id   text not null references projects(id),
    external_id  text not null,
    platform     text not null,
    agent_id     text,
    agent_type   text,
    status       text not null default 'active' check (status in ('active', 'ended')),
    started_at   integer not null,
    ended_at     integer,
    metadata     text not null default '{}',
    last_seq     integer not null default 0,
    unique (team_id, project_id, platform, external_id)
);
create index sessions_recent on sessions (team_id, project_id, started_at);

create table events (
    id               text primary key,
    team_id          text not null references teams(id),
    project_id       text not null references projects(id),
    session_id       text not null references sessions(id),
    seq              integer not null,
    kind             text not null check (kind in
                       ('prompt', 'tool_use', 'assistant_message', 'session_start', 'session_end', 'note')),
    idempotency_key  text,
    source_event_id  text,
    payload          text not null,            -- redacted JSON
    occurred_at      integer not null,
    received_at      integer not null,
    status           text not null default 'pending'
                       check (status in ('pending', 'done', 'skipped', 'failed')),
    attempts         integer not null default 0,
    last_error       text,
    unique (session_id, seq),
    unique (team_id, idempotency_key)
);
create index events_pending on events (session_id, seq) where status = 'pending';
create index events_pending_age on events (received_at) where status = 'pending';

create table memories (
    pk              integer primary key,       -- rowid shared with the FTS5 and vec0 indexes
    id              text not null unique,
    team_id         text not null references teams(id),
    project_id      text not null references projects(id),
    session_id      text references sessions(id),
    kind            text not null check (kind in ('observation', 'decision', 'summary', 'note')),
    type            text,
    title           text not null default '',
    subtitle        text not null default '',
    narrative       text not null default '',
    facts           text not null default '[]',
    concepts        text not null default '[]',
    files_read      text not null default '[]',
    files_modified  text not null default '[]',
    content_hash    text not null,
    created_at      integer not null,
    updated_at      integer not null,
    superseded_by   text,
    forgotten_at    integer,
    metadata        text not null default '{}'
);
create unique index memories_session_hash on memories (session_id, content_hash)
    where session_id is not null;
create index memories_recent on memories (team_id, project_id, created_at);
create index memories_session on memories (session_id, created_at);

create table memory_sources (
    memory_id  text not null references memories(id),
    event_id   text not null references events(id),
    primary key (memory_id, event_id)
);
create index memory_sources_event on memory_sources (event_id);

create table memory_files (
    memory_pk  integer not null references memories(pk),
    team_id    text not null,
    path       text not null,
    role       text not null check (role in ('read', 'modified')),
    primary key (memory_pk, path, role)
);
create index memory_files_path on memory_files (team_id, path);

-- Derived, rebuilt by reindex. `extra` holds split identifiers, paths and concepts.
create virtual table memories_fts using fts5 (title, body, extra, tokenize = 'porter unicode61');

create table audit_log (
    id          integer primary key,
    at          integer not null,
    team_id     text not null,
    key_id      text,
    action      text not null,
    target      text,
    count       integer,
    request_id  text,
    detail      text not null default '{}'
);
create index audit_team_time on audit_log (team_id, at);

insert into orgs (id, name, created_at) values ('org_local', 'local', 0);
insert into teams (id, org_id, name, created_at) values ('team_local', 'org_local', 'local', 0);
