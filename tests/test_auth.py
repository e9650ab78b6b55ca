# SPDX-License-Identifier: Apache-2.0
"""Team auth over real HTTP against a server process in api-key mode: keys, scopes, revocation,
expiry, forged tokens, team and project isolation, and no raw token in the database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from claude_mem.handlers import contracts as c
from claude_mem.handlers import teams
from claude_mem.handlers.context import Principal
from claude_mem.runtime.services import Services
from claude_mem.runtime.settings import load
from support import free_port, wait_for

pytestmark = pytest.mark.e2e


class Api:
    def __init__(self, base: str):
        self.base = base

    def call(self, method: str, path: str, body: dict | None = None, token: str | None = None,
             headers: dict | None = None) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        h = {"Content-Type": "application/json", **(headers or {})}
        if token:
            h["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                raw = r.read()
                if r.headers.get("content-type", "").startswith("application/json"):
                    return r.status, json.loads(raw)
                return r.status, {"raw": raw}
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())


def _cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "claude_mem.cli", *args], env=env, capture_output=True,
                          text=True, timeout=60)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("auth") / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDE_MEM_")}
    env |= {"CLAUDE_MEM_DATA_DIR": str(data), "CLAUDE_MEM_PORT": str(free_port()),
            "CLAUDE_MEM_AUTH_MODE": "api-key"}
    proc = subprocess.Popen([sys.executable, "-m", "claude_mem.cli", "server", "start"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    api = Api(f"http://127.0.0.1:{env['CLAUDE_MEM_PORT']}")

    def up():
        try:
            return api.call("GET", "/healthz")[0] == 200
        except OSError:
            return False
    wait_for(up, timeout=30, interval=0.1)
    operator = Services(load({"CLAUDE_MEM_DATA_DIR": str(data)}), queue=None)
    for name in ("team-a", "team-b"):
        teams.create_team(c.TeamCreate(name=name), operator.context(Principal.local()))

    def key(team: str, scopes: list[str], **kw) -> str:
        req = c.KeyCreate(team=team, scopes=scopes, **kw)
        return teams.create_key(req, operator.context(Principal.local())).token

    yield api, key, env, operator
    proc.terminate()
    proc.wait(timeout=20)
    operator.close()


ALL = ["memories:read", "memories:write", "memories:forget", "audit:read"]


def test_no_key_is_401_but_healthz_answers(server):
    api, *_ = server
    assert api.call("GET", "/healthz")[0] == 200
    for method, path, body in (("POST", "/v1/search", {"query": "x"}), ("GET", "/v1/info", None),
                               ("POST", "/v1/events", {"project": "p", "contentSessionId": "s",
                                                       "eventType": "prompt"})):
        status, err = api.call(method, path, body)
        assert status == 401 and err["error"] == "Unauthorized"
    assert api.call("GET", "/v1/info", headers={"Authorization": "Basic abc"})[0] == 401


def test_a_read_key_cannot_write_or_forget(server):
    api, key, *_ = server
    rk = key("team-a", ["memories:read"])
    assert api.call("POST", "/v1/search", {"query": "x"}, rk)[0] == 200
    status, err = api.call("POST", "/v1/memories", {"project": "p", "narrative": "n"}, rk)
    assert status == 403 and "memories:write" in err["message"]
    assert api.call("POST", "/v1/forget", {"ids": ["mem_x"]}, rk)[0] == 403
    assert api.call("GET", "/v1/keys", None, rk)[0] == 403
    # X-Api-Key works too
    assert api.call("POST", "/v1/search", {"query": "x"}, headers={"X-Api-Key": rk})[0] == 200


def test_a_key_revoked_by_another_process_fails_on_its_next_request(server):
    api, key, env, _ = server
    out = json.loads(_cli(env, "server", "api-key", "create", "--team", "team-a", "--scope",
                          "memories:read", "--json").stdout)
    token, kid = out["token"], out["key"]["id"]
    assert api.call("POST", "/v1/search", {"query": "x"}, token)[0] == 200  # a CLI-made key works
    assert _cli(env, "server", "api-key", "revoke", kid).returncode == 0
    status, err = api.call("POST", "/v1/search", {"query": "x"}, token)
    assert status == 401 and "revoked" in err["message"]


def test_an_expired_key_is_denied(server):
    api, key, *_ = server
    token = key("team-a", ["memories:read"], expires_at_epoch=int(time.time() * 1000) + 1500)
    assert api.call("POST", "/v1/search", {"query": "x"}, token)[0] == 200
    time.sleep(2.2)
    status, err = api.call("POST", "/v1/search", {"query": "x"}, token)
    assert status == 401 and "expired" in err["message"]


def test_rotating_the_signing_key_keeps_issued_keys_working(server):
    api, key, env, _ = server
    before = key("team-a", ["memories:read"])
    rotated = _cli(env, "server", "signing-key", "rotate")
    assert rotated.returncode == 0 and "k4.pid." in rotated.stdout
    after = json.loads(_cli(env, "server", "api-key", "create", "--team", "team-a", "--scope",
                            "memories:read", "--json").stdout)["token"]
    assert after.split(".")[-1] != before.split(".")[-1]  # another kid in the footer
    assert api.call("POST", "/v1/search", {"query": "x"}, before)[0] == 200
    assert api.call("POST", "/v1/search", {"query": "x"}, after)[0] == 200  # the running server learns the kid


def test_tampered_foreign_and_unknown_kid_tokens_are_denied(server, tmp_path):
    import base64

    from claude_mem.runtime.keyring import Keyring
    from claude_mem.storage.store import Store
    api, key, *_ = server
    good = key("team-a", ALL)
    head, body, footer = good[:10], good[10:].split(".")[0], good.split(".")[-1]
    raw = bytearray(base64.urlsafe_b64decode(body + "=="))
    raw[12] ^= 1
    tampered = head + base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=") + "." + footer
    other = Keyring(Store(tmp_path / "other.db"), tmp_path)
    foreign = other.issue(jti="key_x", team_id="team_local", project_id=None, scopes=ALL, expires_at=None)
    # a token from another server that claims our kid: the signature does not verify
    forged_kid = foreign.rsplit(".", 1)[0] + "." + footer
    for bad in (tampered, foreign, forged_kid, "v4.public.garbage", "not-a-token"):
        status, err = api.call("POST", "/v1/search", {"query": "x"}, bad)
        assert status == 401, (bad, err)


def test_team_a_cannot_reach_team_b(server):
    api, key, *_ = server
    a, b = key("team-a", ALL), key("team-b", ALL)
    status, out = api.call("POST", "/v1/memories",
                           {"project": "secret-project", "narrative": "the launch code is 1234"}, a)
    assert status == 201
    mid, pid = out["memory"]["id"], out["memory"]["projectId"]
    assert api.call("GET", f"/v1/memories/{mid}", None, b)[0] == 404
    assert api.call("GET", f"/v1/projects/{pid}", None, b)[0] == 404
    assert api.call("POST", "/v1/search", {"query": "launch code"}, b)[1]["results"] == []
    assert api.call("POST", "/v1/search", {"query": "launch code", "projectId": pid}, b)[0] == 404
    assert api.call("POST", "/v1/context", {"project": "secret-project"}, b)[0] == 404
    assert api.call("POST", "/v1/context", {"projectId": pid}, b)[0] == 404
    assert api.call("GET", f"/v1/timeline?anchor={mid}", None, b)[0] == 404
    status, exported = api.call("POST", "/v1/export", {}, b)
    assert status == 200 and b"launch code" not in exported["raw"]
    assert api.call("POST", "/v1/forget", {"ids": [mid]}, b)[1]["count"] == 0
    assert api.call("POST", "/v1/forget", {"projectId": pid}, b)[0] == 404
    assert api.call("GET", f"/v1/memories/{mid}", None, a)[1]["memory"]["narrative"] == "the launch code is 1234"
    assert api.call("POST", "/v1/search", {"query": "launch code"}, a)[1]["results"][0]["id"] == mid


def test_a_project_pinned_key_stays_in_its_project(server):
    api, key, *_ = server
    a = key("team-a", ALL)
    api.call("POST", "/v1/memories", {"project": "other", "narrative": "other project note"}, a)
    pinned = key("team-a", ALL, project="pinned")
    assert api.call("POST", "/v1/memories", {"project": "pinned", "narrative": "pinned note"}, pinned)[0] == 201
    assert api.call("POST", "/v1/memories", {"narrative": "default project note"}, pinned)[0] == 201
    assert api.call("POST", "/v1/memories", {"project": "other", "narrative": "x"}, pinned)[0] == 404
    assert api.call("POST", "/v1/memories", {"project": "brand-new", "narrative": "x"}, pinned)[0] == 403
    titles = [r["title"] for r in api.call("POST", "/v1/search", {"query": "note"}, pinned)[1]["results"]]
    assert sorted(titles) == ["default project note", "pinned note"]
    assert [p["name"] for p in api.call("GET", "/v1/projects", None, pinned)[1]["projects"]] == ["pinned"]


def test_an_admin_key_manages_only_its_own_team(server):
    api, key, *_ = server
    admin = key("team-a", ["admin"])
    status, made = api.call("POST", "/v1/keys", {"scopes": ["memories:read"], "name": "made-by-admin"}, admin)
    assert status == 201 and made["key"]["team"] == "team-a"
    assert api.call("POST", "/v1/search", {"query": "x"}, made["token"])[0] == 200
    assert api.call("POST", "/v1/keys", {"scopes": ["admin"], "team": "team-b"}, admin)[0] == 404
    assert api.call("POST", "/v1/teams", {"name": "team-c"}, admin)[0] == 403
    listed = api.call("GET", "/v1/keys", None, admin)[1]["keys"]
    assert {k["team"] for k in listed} == {"team-a"} and all("token" not in k for k in listed)
    assert api.call("POST", f"/v1/keys/{made['key']['id']}/revoke", {}, admin)[0] == 200
    assert api.call("POST", "/v1/search", {"query": "x"}, made["token"])[0] == 401
    actions = [e["action"] for e in api.call("GET", "/v1/audit", None, admin)[1]["entries"]]
    assert "key.revoked" in actions and "key.created" in actions


def test_the_database_holds_no_raw_token(server):
    api, key, env, operator = server
    token = key("team-a", ALL, name="scan-me")
    api.call("POST", "/v1/search", {"query": "x"}, token)
    signature = token.split(".")[2]
    db = operator.store.conn()
    tables = [r[0] for r in db.execute("select name from sqlite_master where type = 'table'")]
    for table in tables:
        for row in db.execute(f'select * from "{table}"'):
            for value in row:
                if isinstance(value, (str, bytes)):
                    text = value if isinstance(value, str) else value.decode("latin-1")
                    assert token not in text and signature not in text, table


def test_local_dev_will_not_start_on_all_interfaces(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDE_MEM_")}
    env |= {"CLAUDE_MEM_DATA_DIR": str(tmp_path), "CLAUDE_MEM_HOST": "0.0.0.0",
            "CLAUDE_MEM_PORT": str(free_port())}
    r = _cli(env, "server", "start")
    assert r.returncode == 2 and "CLAUDE_MEM_HOST" in r.stderr
    r = _cli(env | {"CLAUDE_MEM_CONTAINER": "1", "CLAUDE_MEM_HOST": "127.0.0.1"}, "server", "start")
    assert r.returncode == 2 and "api-key" in r.stderr


def test_rate_limit_answers_429_with_retry_after(tmp_path):
    from litestar.testing import TestClient

    from claude_mem.runtime.app import create_app
    from support import loopback
    settings = load({"CLAUDE_MEM_DATA_DIR": str(tmp_path), "CLAUDE_MEM_RATE_LIMIT_PER_MIN": "3"})
    with TestClient(loopback(create_app(settings, start_queue=False)), base_url="http://127.0.0.1:37777") as client:
        codes = [client.post("/v1/search", json={"query": "x"}).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        r = client.post("/v1/search", json={"query": "x"})
        assert r.json()["error"] == "TooManyRequests" and int(r.headers["retry-after"]) >= 1
