# SPDX-License-Identifier: Apache-2.0
"""The same behaviours over HTTP, through the real Litestar app; and every bad input is a 4xx
with the JSON error body, never a 500, and writes nothing."""

from __future__ import annotations

import pytest

from claude_mem.handlers.manifest import MANIFEST
from support import hook_sample, wait_for

EVENT = {"project": "acme", "contentSessionId": "sess-1", "eventType": "tool_use"}


def counts(client):
    db = client.services.store.conn()
    return tuple(db.execute(f"select count(*) from {t}").fetchone()[0]
                 for t in ("projects", "sessions", "events", "memories"))


def assert_error(resp, status, kind=None, path=None):
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) >= {"error", "message", "issues", "requestId"}
    assert resp.headers["x-request-id"] == body["requestId"]
    if kind:
        assert body["error"] == kind
    if path:
        assert [i["path"] for i in body["issues"]] == [path]
    return body


def test_health_ready_info(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["database"]["ok"]
    info = client.get("/v1/info").json()
    assert info["queueEngine"] == "sqlite" and info["schemaVersion"] >= 2


def test_event_to_search_to_context_over_http(client):
    payload = hook_sample("post_tool_use.edit")
    r = client.post("/v1/events", json={**EVENT, "payload": payload})
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["duplicate"] is False and body["event"]["seq"] == 1 and body["queued"] is True
    dup = client.post("/v1/events", json={**EVENT, "payload": payload}).json()
    assert dup["duplicate"] is True and dup["event"]["id"] == body["event"]["id"]
    ev = wait_for(lambda: (e := client.get(f"/v1/events/{body['event']['id']}").json()["event"])
                  ["status"] == "done" and e)
    assert len(ev["memoryIds"]) == 1
    hits = client.post("/v1/search", json={"query": "withinGrace refresh"}).json()
    assert hits["results"][0]["id"] == ev["memoryIds"][0]
    assert {"id", "kind", "type", "title", "snippet", "score", "projectId", "createdAtEpoch"} <= set(hits["results"][0])
    mem = client.get(f"/v1/memories/{ev['memoryIds'][0]}").json()["memory"]
    assert mem["filesModified"] == ["/home/dev/acme-api/src/auth/refresh.ts"]
    assert {"createdAtEpoch", "updatedAtEpoch", "supersededBy", "narrative", "facts"} <= set(mem)
    ctx = client.post("/v1/context", json={"project": "acme", "query": "refresh"}).json()
    assert ev["memoryIds"][0] in ctx["memoryIds"] and ctx["tokens"] > 0
    tl = client.get("/v1/timeline", params={"anchor": ev["memoryIds"][0]}).json()
    assert tl["anchor"] == ev["memoryIds"][0]


def test_projects_sessions_memories_routes(client):
    p = client.post("/v1/projects", json={"name": "web"})
    assert p.status_code == 201
    assert_error(client.post("/v1/projects", json={"name": "web"}), 409, "Conflict")
    pid = p.json()["project"]["id"]
    assert client.get(f"/v1/projects/{pid}").json()["project"]["name"] == "web"
    assert [x["name"] for x in client.get("/v1/projects").json()["projects"]] == ["web"]
    s = client.post("/v1/sessions/start", json={"projectId": pid, "contentSessionId": "c1"})
    assert s.status_code == 200 and s.json()["created"] is True
    sid = s.json()["session"]["id"]
    again = client.post("/v1/sessions/start", json={"projectId": pid, "contentSessionId": "c1"})
    assert again.json()["created"] is False
    m = client.post("/v1/memories", json={"projectId": pid, "narrative": "deploys go through CI", "sessionId": sid})
    assert m.status_code == 201
    mid = m.json()["memory"]["id"]
    patched = client.patch(f"/v1/memories/{mid}", json={"title": "Deploy rule"})
    assert patched.json()["memory"]["title"] == "Deploy rule"
    sup = client.post(f"/v1/memories/{mid}/supersede", json={"narrative": "deploys go through CD"})
    assert sup.json()["memory"]["supersededBy"] == sup.json()["supersededBy"]["id"]
    end = client.post(f"/v1/sessions/{sid}/end")
    assert end.status_code == 200 and end.json()["session"]["status"] == "ended"
    forgot = client.post("/v1/forget", json={"ids": [sup.json()["supersededBy"]["id"]]})
    assert forgot.json()["count"] == 1
    gone = sup.json()["supersededBy"]["id"]
    for mode in ("hybrid", "fts", "vector"):
        hits = client.post("/v1/search", json={"query": "deploys", "mode": mode}).json()["results"]
        assert gone not in [h["id"] for h in hits]
    assert client.get("/v1/audit", params={"action": "memory.forgotten"}).json()["entries"][0]["count"] == 1
    assert client.post("/v1/reindex").json()["memories"] >= 1


def test_batch_over_http(client):
    r = client.post("/v1/events/batch", json={"events": [
        {**EVENT, "payload": {"tool_name": "Bash", "tool_input": {"command": "make"}}},
        {**EVENT, "eventType": "nope"}]})
    assert r.status_code == 202
    res = r.json()["results"]
    assert "event" in res[0] and res[1]["error"]["error"] == "ValidationError"
    assert_error(client.post("/v1/events/batch", json={"events": []}), 400, "ValidationError", "$.events")
    too_many = {"events": [{**EVENT, "eventType": "prompt"}] * 501}
    assert_error(client.post("/v1/events/batch", json=too_many), 400, "ValidationError", "$.events")


def test_export_and_import_over_http(client):
    client.post("/v1/memories", json={"project": "acme", "narrative": "exported memory"})
    r = client.post("/v1/export", json={})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
    lines = r.content.splitlines()
    assert b'"record":"header"' in lines[0] and any(b"exported memory" in ln for ln in lines)
    imp = client.post("/v1/import", content=r.content, headers={"content-type": "application/x-ndjson"})
    assert imp.status_code == 200 and imp.json()["skipped"]["memories"] == 1


BAD_INPUTS = [
    ("malformed JSON", b'{"project": "acme",', "application/json", "MalformedJSON", None),
    ("invalid UTF-8", b'{"project": "\xff\xfe", "contentSessionId": "s", "eventType": "prompt"}',
     "application/json", "MalformedJSON", None),
    ("a wrong type", b'{"project": "acme", "contentSessionId": 5, "eventType": "prompt"}',
     "application/json", "ValidationError", "$.contentSessionId"),
    ("a missing field", b'{"project": "acme", "contentSessionId": "s"}', "application/json",
     "ValidationError", "$.eventType"),
    ("an unknown eventType", b'{"project": "acme", "contentSessionId": "s", "eventType": "launch"}',
     "application/json", "ValidationError", "$.eventType"),
    ("not an object", b'[1, 2]', "application/json", "ValidationError", "$"),
    ("a form body", b"project=acme", "application/x-www-form-urlencoded", "UnsupportedMediaType", None),
    ("no session", b'{"project": "acme", "eventType": "prompt"}', "application/json",
     "ValidationError", "$.contentSessionId"),
]


@pytest.mark.parametrize("label,body,ctype,kind,path", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_event_input_is_a_4xx_and_writes_nothing(client, label, body, ctype, kind, path):
    before = counts(client)
    resp = client.post("/v1/events", content=body, headers={"content-type": ctype})
    assert_error(resp, 415 if kind == "UnsupportedMediaType" else 400, kind, path)
    assert counts(client) == before


def test_a_2_mib_body_is_413(client):
    before = counts(client)
    big = b'{"project": "acme", "contentSessionId": "s", "eventType": "prompt", "payload": {"prompt": "' \
        + b"x" * (2 * 1024 * 1024) + b'"}}'
    assert_error(client.post("/v1/events", content=big, headers={"content-type": "application/json"}),
                 413, "PayloadTooLarge")
    assert counts(client) == before


def test_fts5_operator_soup_is_just_words(client):
    client.post("/v1/memories", json={"project": "acme", "narrative": "near the end, and or not"})
    for q in ['"AND OR NEAR( *', "title:x", "a* OR -b", "((", "NOT", '"', "^x", "{a b}"]:
        r = client.post("/v1/search", json={"query": q})
        assert r.status_code == 200, (q, r.text)
    assert client.post("/v1/search", json={"query": '"AND OR NEAR( *'}).json()["results"]


def test_not_found_and_method_errors_are_json(client):
    assert_error(client.get("/v1/memories/mem_nope"), 404, "NotFound")
    assert_error(client.get("/v1/events/evt_nope"), 404, "NotFound")
    assert_error(client.get("/v1/sessions/ses_nope"), 404, "NotFound")
    assert_error(client.get("/nowhere"), 404, "NotFound")
    assert_error(client.delete("/v1/search"), 405, "MethodNotAllowed")
    assert_error(client.get("/v1/timeline", params={"before": "many"}), 400, "ValidationError", "$.before")
    assert_error(client.post("/v1/search", json={"limit": 1000}), 400, "ValidationError", "$.limit")


def test_request_id_is_honoured_when_safe(client):
    r = client.get("/v1/info", headers={"x-request-id": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    r = client.get("/v1/info", headers={"x-request-id": "bad id\nwith newline"})
    assert r.headers["x-request-id"].startswith("req_")


def test_local_dev_refuses_forwarded_requests(client):
    assert_error(client.get("/v1/info", headers={"x-forwarded-for": "203.0.113.9"}), 401, "Unauthorized")
    assert client.get("/healthz", headers={"x-forwarded-for": "203.0.113.9"}).status_code == 200


def test_local_dev_refuses_a_page_that_rebinds_its_name_to_loopback(client):
    # DNS rebinding: the browser connects to 127.0.0.1 but sends the attacker's host name.
    assert_error(client.get("/v1/info", headers={"host": "evil.example:37777"}), 401, "Unauthorized")
    assert_error(client.post("/v1/search", json={"query": "x"}, headers={"host": "evil.example"}),
                 401, "Unauthorized")
    for host in ("localhost:37777", "127.0.0.1", "[::1]:37777", "claude-mem.localhost"):
        assert client.get("/v1/info", headers={"host": host}).status_code == 200, host


def test_openapi_documents_every_route(client):
    doc = client.get("/schema/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    for route in MANIFEST:
        op = doc["paths"][route.path][route.method.lower()]
        assert op["summary"] == route.summary and str(route.status) in op["responses"]
    search = doc["paths"]["/v1/search"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert search["properties"]["limit"]["maximum"] == 100
    patch = doc["paths"]["/v1/memories/{id}"]["patch"]["requestBody"]["content"]["application/json"]["schema"]
    assert "id" not in patch["properties"]


def test_a_server_fault_is_500_with_the_request_id_and_no_stack_trace(client):
    client.services.store.conn().execute("drop table audit_log")
    resp = client.post("/v1/search", json={"query": "x"})
    body = assert_error(resp, 500, "InternalError")
    assert body["requestId"] in body["message"]
    assert "Traceback" not in resp.text and "audit_log" not in resp.text


def test_a_long_file_filter_is_a_clear_400_not_a_500(client):
    """Found by the API fuzz: 600 files made one SQL expression too deep for SQLite."""
    many = [f"src/f{i}.py" for i in range(101)]
    for path in ("/v1/search", "/v1/forget"):
        assert_error(client.post(path, json={"query": "x", "files": many}), 400, "ValidationError")
    assert client.post("/v1/search", json={"query": "x", "files": many[:100]}).status_code == 200
    assert client.post("/v1/memories", json={"project": "p", "narrative": "n"}).status_code == 201
    assert client.post("/v1/context", json={"project": "p", "files": many[:100]}).status_code == 200
