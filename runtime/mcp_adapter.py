# SPDX-License-Identifier: Apache-2.0
"""The MCP adapter: the manifest's tools over the Model Context Protocol.

Every tool is a manifest route with an `mcp_tool` name; its input schema is the route's msgspec
contract and calling it runs the very same handler as REST. The tool list follows the caller's
scopes (a read-only key sees no write tools), and every failure the model can fix (a bad
argument, a missing memory, a missing scope) comes back as a tool error it can read.

Importing this module imports `mcp` (most of a second): only the MCP paths do so.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from mcp import types
from mcp.server import Server

from claude_mem.handlers.context import Principal
from claude_mem.handlers.errors import HandlerError
from claude_mem.handlers.manifest import MANIFEST, Route
from claude_mem.handlers.system import version

INSTRUCTIONS = (
    "Memory of past coding sessions. Start with memory_context (or memory_search / search) for a compact "
    "index, then fetch full memories by id with get_observations. Record what matters with memory_add and "
    "memory_record_decision.")

# Resolves the caller of one MCP request, and runs a route's handler for it.
PrincipalOf = Callable[[Any], Principal]
Call = Callable[[Any, Route, Any], Awaitable[Any]]


def input_schema(t: type) -> dict[str, Any]:
    """The contract's JSON Schema with its root inlined: MCP wants `type: object` at the top."""
    schema = msgspec.json.schema(t)
    defs: dict[str, Any] = schema.pop("$defs", {})
    ref = schema.pop("$ref", None)
    root = dict(defs.pop(ref.rsplit("/", 1)[-1])) if ref else schema
    if defs:
        root["$defs"] = defs
    root.setdefault("type", "object")
    return root


@dataclass(frozen=True)
class ToolSpec:
    route: Route
    tool: types.Tool


def tool_specs() -> dict[str, ToolSpec]:
    return {
        r.mcp_tool: ToolSpec(r, types.Tool(name=r.mcp_tool, description=r.summary,
                                           input_schema=input_schema(r.request_type)))
        for r in MANIFEST if r.mcp_tool
    }


def allowed(principal: Principal, route: Route) -> bool:
    return route.scope is None or principal.can(route.scope)


def _error(text: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=True)


def _describe(exc: HandlerError) -> str:
    where = "; ".join(f"{i.path}: {i.message}" for i in getattr(exc, "issues", []) or [])
    return f"{exc.kind}: {exc.message}" + (f" ({where})" if where and where not in exc.message else "")


def render(out: Any) -> types.CallToolResult:
    """Text the model reads first: Markdown where the handler made some, JSON otherwise."""
    data = msgspec.to_builtins(out)
    if isinstance(data, dict) and isinstance(data.get("content"), list):  # the upstream's text answers
        return types.CallToolResult(content=[types.TextContent(type="text", text=str(item.get("text", "")))
                                             for item in data["content"]])
    text = data["context"] if isinstance(data, dict) and isinstance(data.get("context"), str) \
        else msgspec.json.encode(data).decode()
    structured = data if isinstance(data, dict) else {"items": data}
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], structured_content=structured)


def build_server(principal_of: PrincipalOf, call: Call) -> Server[Any]:
    specs = tool_specs()

    async def on_list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        principal = principal_of(ctx)
        return types.ListToolsResult(tools=[s.tool for s in specs.values() if allowed(principal, s.route)])

    async def on_call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        spec = specs.get(params.name)
        if spec is None:
            return _error(f"unknown tool {params.name!r}; list the tools to see what this key can call")
        try:
            principal = principal_of(ctx)
        except HandlerError as exc:
            return _error(_describe(exc))
        if not allowed(principal, spec.route):
            return _error(f"Forbidden: this key lacks the {spec.route.scope} scope for {params.name}")
        try:
            req = msgspec.convert(params.arguments or {}, spec.route.request_type)
        except msgspec.ValidationError as exc:
            return _error(f"invalid arguments: {exc}")
        try:
            out = await call(ctx, spec.route, req)
        except HandlerError as exc:
            return _error(_describe(exc))
        return render(out)

    return Server("claude-mem", version=version(), instructions=INSTRUCTIONS,
                  on_list_tools=on_list_tools, on_call_tool=on_call_tool)
