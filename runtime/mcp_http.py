# SPDX-License-Identifier: Apache-2.0
"""`/mcp` on the server: MCP over streamable HTTP, behind the same keys, scopes and rate limit as `/v1`.

Stateless (each POST is a whole exchange) with JSON answers, so any number of server processes can
answer behind a load balancer. The `mcp` package is imported on the first `/mcp` request, not at
start-up: a server that is never asked for MCP never pays for it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import anyio
import msgspec
from anyio.abc import TaskGroup, TaskStatus
from litestar import Litestar
from litestar.datastructures import Headers
from litestar.types import Receive, Scope, Send

from claude_mem.handlers.context import Principal
from claude_mem.handlers.contracts import ErrorBody
from claude_mem.handlers.errors import HandlerError
from claude_mem.storage.ids import ulid

from .auth import RateLimiter, TooManyRequests, authenticate, is_loopback
from .services import Services

PRINCIPAL_KEY = "claude_mem.principal"
REQUEST_ID_KEY = "claude_mem.request_id"
LOOPBACK_HOSTS = ["127.0.0.1:*", "localhost:*", "[::1]:*", "127.0.0.1", "localhost", "[::1]"]


class McpEndpoint:
    def __init__(self, services: Services, limiter: RateLimiter):
        self.services = services
        self.limiter = limiter
        self._manager: Any = None
        self._tg: TaskGroup | None = None
        self._lock = anyio.Lock()

    @asynccontextmanager
    async def lifespan(self, app: Litestar) -> AsyncIterator[None]:
        async with anyio.create_task_group() as tg:
            self._tg = tg
            try:
                yield
            finally:
                self._tg = None
                tg.cancel_scope.cancel()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers.from_scope(scope)
        rid = f"req_{ulid()}"
        client = scope.get("client")
        try:
            principal = authenticate(self.services.settings, self.services.keyring, "/mcp",
                                     client[0] if client else None, headers)
            assert principal is not None
            self.limiter.check(principal.key_id or f"client:{client[0] if client else ''}")
        except HandlerError as exc:
            await _send_error(send, exc, rid)
            return
        scope[PRINCIPAL_KEY] = principal  # type: ignore[typeddict-unknown-key]
        scope[REQUEST_ID_KEY] = rid  # type: ignore[typeddict-unknown-key]
        manager = await self._started_manager()
        await manager.handle_request(scope, receive, send)

    async def _started_manager(self) -> Any:
        async with self._lock:
            if self._manager is None:
                if self._tg is None:
                    raise RuntimeError("the MCP endpoint is used outside the app's lifespan")
                manager = self._new_manager()
                await self._tg.start(_run_manager, manager)
                self._manager = manager
        return self._manager

    def _new_manager(self) -> Any:
        from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
        from mcp.server.transport_security import TransportSecuritySettings

        from .mcp_adapter import build_server

        settings = self.services.settings
        # DNS-rebinding protection where the server is only on this machine: a web page must not
        # reach it by pointing its own host name at 127.0.0.1.
        security = TransportSecuritySettings(
            enable_dns_rebinding_protection=is_loopback(settings.host),
            allowed_hosts=LOOPBACK_HOSTS,
            allowed_origins=[f"http://{h}" for h in LOOPBACK_HOSTS])
        server = build_server(_principal_of, partial(_call, self.services))
        return StreamableHTTPSessionManager(app=server, stateless=True, json_response=True,
                                           security_settings=security)


async def _run_manager(manager: Any, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
    async with manager.run():
        task_status.started()
        await anyio.sleep_forever()


def _principal_of(ctx: Any) -> Principal:
    request = getattr(ctx, "request", None)
    principal = request.scope.get(PRINCIPAL_KEY) if request is not None else None
    if principal is None:
        raise RuntimeError("an MCP request reached a tool without an authenticated caller")
    return principal


async def _call(services: Services, ctx: Any, route: Any, req: Any) -> Any:
    scope = ctx.request.scope
    context = services.context(scope[PRINCIPAL_KEY], scope.get(REQUEST_ID_KEY))
    return await anyio.to_thread.run_sync(route.handler, req, context)


async def _send_error(send: Send, exc: HandlerError, rid: str) -> None:
    body = msgspec.json.encode(ErrorBody(error=exc.kind, message=exc.message, issues=[], request_id=rid))
    headers = [(b"content-type", b"application/json"), (b"x-request-id", rid.encode()),
               (b"content-length", str(len(body)).encode())]
    if exc.status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="claude-mem"'))
    if isinstance(exc, TooManyRequests):
        headers.append((b"retry-after", str(exc.retry_after).encode()))
    await send({"type": "http.response.start", "status": exc.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
