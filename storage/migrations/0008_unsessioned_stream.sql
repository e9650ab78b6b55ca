-- SPDX-License-Identifier: Apache-2.0
-- Hybrid search reads a hit's neighbours in its stream: its session's memories, or for a memory
-- without a session its project's other memories without one. This index serves the latter.
create index memories_unsessioned on memories (team_id, project_id, created_at)
    where session_id is null;
