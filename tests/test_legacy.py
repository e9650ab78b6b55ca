# SPDX-License-Identifier: Apache-2.0
"""The upstream worker's /api routes, with its field names, query parameters and answer shapes."""

from __future__ import annotations

from support import hook_sample, wait_for


def test_upstream_hook_flow_over_the_api_routes(client):
    assert client.get("/api/health").json()["status"] == "ok"
    assert client.get("/api/readiness").status_code == 200
    init = client.post("/api/sessions/init", json={"contentSessionId": "up-1", "project": "acme-api",
                                                   "prompt": "Why does /auth/refresh return 401?",
                                                   "platformSource": "claude"})
    body = init.json()
    assert init.status_code == 200 and body["status"] == "initialized" and body["promptNumber"] == 1
    assert body["skipped"] is False and body["sessionDbId"]
    private = client.post("/api/sessions/init", json={"contentSessionId": "up-1", "project": "acme-api",
                                                      "prompt": "<private>diary</private>", "platformSource": "claude"})
    assert private.json() == {"sessionDbId": body["sessionDbId"], "promptNumber": 2, "skipped": True,
                              "reason": "private"}
    sample = hook_sample("post_tool_use.edit")
    obs = client.post("/api/sessions/observations", json={
        "contentSessionId": "up-1", "platformSource": "claude", "tool_name": sample["tool_name"],
        "tool_input": sample["tool_input"], "tool_response": sample["tool_response"], "cwd": sample["cwd"],
        "toolUseId": sample["tool_use_id"]})
    assert obs.json() == {"status": "queued"}
    skipped = client.post("/api/sessions/observations", json={"contentSessionId": "up-1", "tool_name": "TodoWrite"})
    assert skipped.json() == {"status": "skipped", "reason": "tool_excluded"}
    sub = client.post("/api/sessions/summarize", json={"contentSessionId": "up-1", "agentId": "a1",
                                                       "last_assistant_message": "x"})
    assert sub.json() == {"status": "skipped", "reason": "subagent_context"}
    summ = client.post("/api/sessions/summarize", json={"contentSessionId": "up-1", "platformSource": "claude",
                                                        "last_assistant_message": "Fixed the grace window."})
    assert summ.json() == {"status": "queued"}

    def edited():
        out = client.get("/api/search", params={"query": "refresh", "project": "acme-api", "format": "json"}).json()
        return [o for o in out["observations"] if o["title"] == "Edited refresh.ts"]
    hit = wait_for(edited, timeout=10)[0]
    md = client.get("/api/search", params={"query": "refresh", "project": "acme-api"}).json()
    assert md["content"][0]["type"] == "text" and "Edited refresh.ts" in md["content"][0]["text"]
    text = client.get("/api/context/inject", params={"projects": "other,acme-api"})
    assert text.headers["content-type"].startswith("text/plain") and "Edited refresh.ts" in text.text
    tl = client.get("/api/timeline", params={"anchor": hit["id"], "depth_before": 2, "depth_after": 2}).json()
    assert hit["id"] in tl["content"][0]["text"]
    rows = client.post("/api/observations/batch", json={"ids": [hit["id"]], "project": "acme-api"}).json()
    assert rows[0]["id"] == hit["id"] and rows[0]["files_modified"] == [sample["tool_input"]["file_path"]]
    assert rows[0]["project"] == "acme-api" and isinstance(rows[0]["created_at_epoch"], int)
    saved = client.post("/api/memory/save", json={"text": "Deploys need the VPN", "project": "acme-api"}).json()
    assert saved["success"] is True and saved["project"] == "acme-api"
    assert client.get("/v1/memories/" + saved["id"]).json()["memory"]["subtitle"] == "Manual memory"


def test_bad_upstream_input_is_a_4xx(client):
    r = client.post("/api/sessions/observations", json={"tool_name": "Bash"})
    assert r.status_code == 400 and r.json()["issues"][0]["path"] == "$.contentSessionId"
    assert client.get("/api/context/inject").status_code == 400
