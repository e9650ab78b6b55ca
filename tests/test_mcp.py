# SPDX-License-Identifier: Apache-2.0
"""MCP with the official client: in-process, over stdio as a subprocess, and over HTTP at `/mcp`
with keys. The tool list follows the key's scopes; bad arguments are tool errors the model reads."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from typing import Any

import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from claude_mem.handlers import contracts as c
from claude_mem.handlers import memories, teams
from claude_mem.handlers.context import Principal
from claude_mem.handlers.manifest import MANIFEST
from claude_mem.runtime.mcp_adapter import build_server, tool_specs
from claude_mem.runtime.services import Services
from claude_mem.runtime.settings import load
from support import LiveServer

READ_TOOLS = {"memory_search", "memory_context", "memory_list_recent", "search", "timeline", "get_observations"}
WRITE_TOOLS = {"memory_add", "memory_record_decision", "memory_record_event"}
ALL_TOOLS = READ_TOOLS | WRITE_TOOLS | {"memory_forget"}


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def text(result: Any) -> str:
    return "\n".join(part.text for part in result.content)


# -- schemas ----------------------------------------------------------------------------------------

def test_every_tool_has_an_object_schema_from_its_contract():
    specs = tool_specs()
    assert set(specs) == ALL_TOOLS
    for name, spec in specs.items():
        schema = spec.tool.input_schema
        assert schema["type"] == "object", name
        assert "$ref" not in schema, name
        assert spec.tool.description
    search = specs["memory_search"].tool.input_schema
    assert {"query", "projectId", "sinceEpoch", "limit", "mode"} <= set(search["properties"])
    assert search["properties"]["limit"]["maximum"] == 100
    assert set(specs["memory_record_decision"].tool.input_schema["required"]) == {"title", "decision"}
    # A tool is a manifest route: nothing is exposed that the manifest does not name.
    assert {r.mcp_tool for r in MANIFEST if r.mcp_tool} == set(specs)


# -- in-process -------------------------------------------------------------------------------------

def _in_process(services: Services, principal: Principal) -> Any:
    async def call(ctx: Any, route: Any, req: Any) -> Any:
        return route.handler(req, services.context(principal))
    return build_server(lambda ctx: principal, call)


def test_in_process_tools_follow_scopes_and_report_bad_arguments(quiet_services):
    local = Principal.local()
    memories.create_memory(c.MemoryCreate(project="web", narrative="The refresh token rotates on every use",
                                          title="Refresh tokens rotate"), quiet_services.context(local))
    reader = Principal(team_id=local.team_id, scopes=frozenset({"memories:read"}))

    async def go() -> None:
        async with Client(_in_process(quiet_services, reader)) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            assert names == READ_TOOLS
            found = await client.call_tool("memory_search", {"query": "refreshToken", "project": "web"})
            assert not found.is_error
            hits = found.structured_content["results"]
            assert hits[0]["title"] == "Refresh tokens rotate"
            full = await client.call_tool("get_observations", {"ids": [hits[0]["id"]]})
            assert json.loads(text(full))[0]["narrative"] == "The refresh token rotates on every use"
            bad = await client.call_tool("memory_search", {"query": "x", "limit": 1000})
            assert bad.is_error and "$.limit" in text(bad)
            denied = await client.call_tool("memory_add", {"project": "web", "narrative": "x"})
            assert denied.is_error and "memories:write" in text(denied)
            unknown = await client.call_tool("drop_everything", {})
            assert unknown.is_error and "unknown tool" in text(unknown)

        async with Client(_in_process(quiet_services, local)) as client:
            assert {t.name for t in (await client.list_tools()).tools} == ALL_TOOLS
            made = await client.call_tool("memory_record_decision", {
                "project": "web", "title": "Keep SQLite", "decision": "SQLite stays the only store",
                "rationale": "one file to back up", "alternatives": ["Postgres"]})
            memory = made.structured_content["memory"]
            assert memory["kind"] == "decision" and "Rejected alternative: Postgres" in memory["facts"]
            ctx_pack = await client.call_tool("memory_context", {"project": "web"})
            assert "Keep SQLite" in text(ctx_pack) and ctx_pack.structured_content["tokens"] > 0
            missing = await client.call_tool("timeline", {"anchor": "mem_doesnotexist"})
            assert missing.is_error and "not found" in text(missing)
            gone = await client.call_tool("memory_forget", {"ids": [memory["id"]]})
            assert gone.structured_content["count"] == 1
            recent = await client.call_tool("memory_list_recent", {"project": "web"})
            assert [m["title"] for m in recent.structured_content["memories"]] == ["Refresh tokens rotate"]

    run(go())


# -- over HTTP with keys ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory):
    data = tmp_path_factory.mktemp("mcp") / "data"
    server = LiveServer(data, CLAUDE_MEM_AUTH_MODE="api-key")
    operator = Services(load({"CLAUDE_MEM_DATA_DIR": str(data)}), queue=None)
    for name in ("team-a", "team-b"):
        teams.create_team(c.TeamCreate(name=name), operator.context(Principal.local()))

    def key(team: str, scopes: list[str]) -> str:
        return teams.create_key(c.KeyCreate(team=team, scopes=scopes), operator.context(Principal.local())).token

    yield server, key
    server.stop()
    operator.close()


def _http_client(url: str, token: str) -> Client:
    return Client(streamable_http_client(url, http_client=httpx2.AsyncClient(
        headers={"Authorization": f"Bearer {token}"})))


def test_http_mcp_needs_a_key(keyed_server):
    server, _ = keyed_server
    req = urllib.request.Request(server.base + "/mcp", method="POST", data=b"{}",
                                 headers={"Content-Type": "application/json", "Accept": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=10)
    assert err.value.code == 401
    assert json.loads(err.value.read())["error"] == "Unauthorized"


def test_http_mcp_lists_by_scope_and_keeps_teams_apart(keyed_server):
    server, key = keyed_server
    writer = key("team-a", ["memories:read", "memories:write"])
    reader = key("team-a", ["memories:read"])
    other = key("team-b", ["memories:read", "memories:write"])
    url = server.base + "/mcp"

    async def go() -> None:
        async with _http_client(url, writer) as client:
            assert {t.name for t in (await client.list_tools()).tools} == READ_TOOLS | WRITE_TOOLS
            added = await client.call_tool("memory_add", {
                "project": "api", "narrative": "Pagination uses opaque cursors, not offsets", "title": "Cursors"})
            assert not added.is_error, text(added)
            bad = await client.call_tool("memory_add", {"project": "api"})
            assert bad.is_error and "narrative" in text(bad)
        async with _http_client(url, reader) as client:
            assert {t.name for t in (await client.list_tools()).tools} == READ_TOOLS
            hits = await client.call_tool("memory_search", {"query": "pagination cursor"})
            assert [h["title"] for h in hits.structured_content["results"]] == ["Cursors"]
            denied = await client.call_tool("memory_add", {"project": "api", "narrative": "x"})
            assert denied.is_error and "memories:write" in text(denied)
            upstream = await client.call_tool("search", {"query": "cursors"})
            assert "Cursors" in text(upstream)
        async with _http_client(url, other) as client:
            hits = await client.call_tool("memory_search", {"query": "pagination cursor"})
            assert hits.structured_content["results"] == []

    run(go())


# -- over stdio ---------------------------------------------------------------------------------------

def _stdio(env: dict[str, str]) -> Client:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDE_MEM_")}
    return Client(StdioServerParameters(command=sys.executable, args=["-m", "claude_mem.cli", "mcp"],
                                        env={**base, **env}))


def test_stdio_mcp_talks_to_a_server_with_a_key(keyed_server):
    server, key = keyed_server
    reader = key("team-b", ["memories:read"])
    writer = key("team-b", ["memories:read", "memories:write"])

    async def go() -> None:
        async with _stdio({"CLAUDE_MEM_URL": server.base, "CLAUDE_MEM_API_KEY": writer}) as client:
            made = await client.call_tool("memory_add", {"project": "ops", "narrative": "Backups run at 02:00 UTC"})
            assert not made.is_error, text(made)
        async with _stdio({"CLAUDE_MEM_URL": server.base, "CLAUDE_MEM_API_KEY": reader}) as client:
            assert {t.name for t in (await client.list_tools()).tools} == READ_TOOLS
            hits = await client.call_tool("memory_search", {"query": "backups"})
            assert hits.structured_content["results"][0]["snippet"].startswith("[Backups]")
            denied = await client.call_tool("memory_record_decision", {"title": "t", "decision": "d"})
            assert denied.is_error

    run(go())


def test_stdio_mcp_works_on_the_local_data_dir(tmp_path):
    async def go() -> None:
        async with _stdio({"CLAUDE_MEM_DATA_DIR": str(tmp_path / "data")}) as client:
            assert {t.name for t in (await client.list_tools()).tools} == ALL_TOOLS
            await client.call_tool("memory_add", {"project": "cli", "narrative": "The CLI exits 2 on bad input"})
            hits = await client.call_tool("memory_search", {"query": "exit code bad input"})
            assert hits.structured_content["results"]
            bad = await client.call_tool("memory_search", {"mode": "psychic"})
            assert bad.is_error and "$.mode" in text(bad)

    run(go())


def test_stdio_mcp_with_the_server_down_answers_tool_errors(tmp_path):
    from support import free_port

    async def go() -> None:
        env = {"CLAUDE_MEM_URL": f"http://127.0.0.1:{free_port()}", "CLAUDE_MEM_API_KEY": "k"}
        async with _stdio(env) as client:
            out = await client.call_tool("memory_search", {"query": "anything"})
            assert out.is_error and "cannot reach" in text(out)

    run(go())


def test_mcp_is_imported_only_on_mcp_paths():
    code = ("import sys, claude_mem.runtime.app, claude_mem.cli.app, claude_mem.cli.hook; "
            "print(sorted(m for m in sys.modules if m == 'mcp' or m.startswith('mcp.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
