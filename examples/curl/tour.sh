#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A plain agent over REST with curl: record a session's events, then read memory back.
# Usage: CLAUDE_MEM_URL=http://127.0.0.1:37777 [CLAUDE_MEM_API_KEY=...] bash tour.sh [project]
set -euo pipefail

URL="${CLAUDE_MEM_URL:-http://127.0.0.1:37777}"
PROJECT="${1:-curl-demo}"
SESSION="curl-$(date +%s)-$$"
AUTH=()
if [[ -n "${CLAUDE_MEM_API_KEY:-}" ]]; then AUTH=(-H "Authorization: Bearer ${CLAUDE_MEM_API_KEY}"); fi

post() {  # post PATH JSON
  curl -sS --fail-with-body -X POST "$URL$1" -H 'Content-Type: application/json' "${AUTH[@]}" -d "$2"
  echo
}

event() {  # event TYPE SOURCE_ID PAYLOAD
  post /v1/events "{\"project\": \"$PROJECT\", \"contentSessionId\": \"$SESSION\", \"platformSource\": \"curl\",
    \"eventType\": \"$1\", \"sourceEventId\": \"$2\", \"payload\": $3}"
}

echo "# 1. what the user asked"
event prompt "$SESSION:p1" '{"prompt": "Make the retry delay configurable in the HTTP client"}'

echo "# 2. what the agent did (a tool use, in Claude Code's shape)"
event tool_use "$SESSION:t1" '{"tool_name": "Edit",
  "tool_input": {"file_path": "src/http/retry.py", "old_string": "DELAY = 0.5", "new_string": "DELAY = settings.retry_delay"},
  "tool_response": {"filePath": "src/http/retry.py", "success": true}}'
event tool_use "$SESSION:t2" '{"tool_name": "Bash", "tool_input": {"command": "pytest tests/test_retry.py -q"},
  "tool_response": {"stdout": "4 passed in 0.21s", "stderr": "", "interrupted": false}}'

echo "# 3. the session ends: the server writes its summary"
event session_end "$SESSION:end" '{"reason": "exit"}'

echo "# 4. search (the events are distilled in the background; give it a moment)"
for _ in $(seq 1 50); do
  out="$(post /v1/search "{\"query\": \"retry delay\", \"project\": \"$PROJECT\", \"limit\": 5}")"
  if grep -q '"id"' <<<"$out"; then break; fi
  sleep 0.2
done
echo "$out"

echo "# 5. the context pack the next session starts with"
post /v1/context "{\"project\": \"$PROJECT\", \"tokenBudget\": 800}"
