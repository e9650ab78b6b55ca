// SPDX-License-Identifier: Apache-2.0
// OpenCode -> claude-mem server. Put this file in .opencode/plugins/ (one project) or
// ~/.config/opencode/plugins/ (every project). It posts each tool use, the user's prompts and the
// end of each turn as events; the server distils them (OpenCode's tool names are understood).
// It never slows or breaks the agent: a short timeout, and every failure is swallowed.

import { basename } from "node:path";

const URL = (process.env.CLAUDE_MEM_URL ?? "http://127.0.0.1:37777").replace(/\/$/, "");
const KEY = process.env.CLAUDE_MEM_API_KEY;
const TIMEOUT_MS = Number(process.env.CLAUDE_MEM_TIMEOUT_MS ?? 2000);

async function post(path, body) {
  const headers = { "Content-Type": "application/json" };
  if (KEY) headers.Authorization = `Bearer ${KEY}`;
  try {
    const res = await fetch(URL + path, {
      method: "POST", headers, body: JSON.stringify(body), signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    return res.ok ? await res.json() : null;
  } catch {
    return null;
  }
}

export const ClaudeMem = async ({ directory, worktree }) => {
  const project = process.env.CLAUDE_MEM_PROJECT ?? basename(worktree || directory || process.cwd());
  const record = (sessionID, eventType, payload, sourceEventId) =>
    post("/v1/events", {
      project, contentSessionId: sessionID, platformSource: "opencode", eventType, payload,
      sourceEventId, occurredAtEpoch: Date.now(),
    });

  return {
    "tool.execute.after": async (input, output) => {
      await record(input.sessionID, "tool_use", {
        tool_name: input.tool, tool_input: input.args ?? {}, tool_response: output?.output ?? "",
      }, `opencode:${input.sessionID}:${input.callID}`);
    },
    "chat.message": async (input, output) => {
      const text = (output?.parts ?? []).filter((p) => p.type === "text").map((p) => p.text).join("\n");
      if (text.trim()) {
        await record(input.sessionID, "prompt", { prompt: text },
          `opencode:${input.sessionID}:${input.messageID ?? Date.now()}`);
      }
    },
    event: async ({ event }) => {
      const sessionID = event?.properties?.sessionID ?? event?.properties?.info?.id;
      if (!sessionID) return;
      if (event.type === "session.idle") {
        // A turn ended: the server refreshes the session's summary.
        await record(sessionID, "assistant_message", {}, `opencode:${sessionID}:idle:${Date.now()}`);
      } else if (event.type === "session.deleted") {
        await record(sessionID, "session_end", { reason: "deleted" }, `opencode:${sessionID}:end`);
      }
    },
  };
};
