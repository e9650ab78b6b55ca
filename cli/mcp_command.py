# SPDX-License-Identifier: Apache-2.0
"""`claude-mem mcp`: the MCP tools over stdio, for agents that start their MCP servers as processes.

With `CLAUDE_MEM_URL` set it talks to that server with `CLAUDE_MEM_API_KEY` (the tool list follows
the key's scopes); without it, it works in-process on the local data directory as the local team.
Either way each tool call runs the manifest's handler.
"""

from __future__ import annotations

from typing import Any

import anyio

from claude_mem.handlers.context import Principal
from claude_mem.handlers.errors import HandlerError

from .invoke import LocalInvoker, RemoteInvoker, Unreachable, invoker


class ServerUnreachable(HandlerError):
    status = 503
    kind = "Unavailable"


class StdioBridge:
    """The caller's principal and the call path for the stdio server."""

    def __init__(self, inv: RemoteInvoker | LocalInvoker):
        self.inv = inv
        self._principal: Principal | None = None

    def principal_of(self, ctx: Any) -> Principal:
        if self._principal is None:
            if isinstance(self.inv, LocalInvoker):
                self._principal = Principal.local()
            else:
                self._principal = self._remote_principal()
        return self._principal

    def _remote_principal(self) -> Principal:
        from claude_mem.handlers.contracts import Empty
        try:
            caller = self.inv.call("info", Empty()).caller
        except (Unreachable, HandlerError):
            # Not known yet: offer every tool; the server still checks each call's scope.
            return Principal.local()
        return Principal(team_id=caller.team_id, scopes=frozenset(caller.scopes),
                         project_id=caller.project_id, key_id=caller.key_id)

    async def call(self, ctx: Any, route: Any, req: Any) -> Any:
        try:
            return await anyio.to_thread.run_sync(self.inv.call, route.name, req)
        except Unreachable as exc:
            raise ServerUnreachable(str(exc)) from None


def run(settings_loader: Any) -> int:
    from mcp.server.stdio import stdio_server

    from claude_mem.runtime.mcp_adapter import build_server

    inv = invoker(settings_loader)
    bridge = StdioBridge(inv)
    server = build_server(bridge.principal_of, bridge.call)

    async def serve() -> None:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    try:
        anyio.run(serve)
    finally:
        if isinstance(inv, LocalInvoker):
            inv.close()
    return 0
