# SPDX-License-Identifier: Apache-2.0
"""The Litestar app: mounts the manifest as REST. No business logic lives here: each endpoint
decodes its input, authenticates, checks the scope, runs the handler in a thread and encodes."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import anyio
import msgspec
from litestar import Litestar, Request, Response
from litestar.config.cors import CORSConfig
from litestar.exceptions import HTTPException
from litestar.handlers import HTTPRouteHandler, asgi
from litestar.response import Stream

from claude_mem.handlers.context import Principal
from claude_mem.handlers.contracts import ErrorBody
from claude_mem.handlers.errors import Forbidden, HandlerError
from claude_mem.handlers.manifest import MANIFEST, Route
from claude_mem.storage.ids import ulid

from . import http_io
from .auth import RateLimiter, TooManyRequests, authenticate
from .mcp_http import McpEndpoint
from .openapi import build_openapi
from .services import Services
from .settings import Settings
from .viewer import Viewer

log = logging.getLogger("claude_mem.http")
_enc = msgspec.json.Encoder()
REQUEST_ID = "x-request-id"


def _request_id(request: Request) -> str:
    rid = request.scope.get("state", {}).get("request_id")
    if rid is None:
        rid = http_io.safe_request_id(request.headers.get(REQUEST_ID)) or f"req_{ulid()}"
        request.scope.setdefault("state", {})["request_id"] = rid
    return rid


def error_response(request: Request, status: int, kind: str, message: str,
                   issues: list[dict[str, str]] | None = None, headers: dict[str, str] | None = None) -> Response:
    rid = _request_id(request)
    body = ErrorBody(error=kind, message=message, issues=issues or [], request_id=rid)
    return Response(content=_enc.encode(body), status_code=status, media_type="application/json",
                    headers={REQUEST_ID: rid, **(headers or {})})


def _handler_error(request: Request, exc: HandlerError) -> Response:
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None
    if exc.status == 401:
        headers = {"WWW-Authenticate": 'Bearer realm="claude-mem"'}
    return error_response(request, exc.status, exc.kind, exc.message,
                          [{"path": i.path, "message": i.message} for i in exc.issues], headers)


_HTTP_KINDS = {404: "NotFound", 405: "MethodNotAllowed", 413: "PayloadTooLarge", 400: "BadRequest",
               401: "Unauthorized", 403: "Forbidden", 429: "TooManyRequests"}


def _http_error(request: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    if status >= 500:
        return _internal_error(request, exc)
    message = exc.detail if isinstance(exc.detail, str) and exc.detail else _HTTP_KINDS.get(status, "error")
    return error_response(request, status, _HTTP_KINDS.get(status, "HTTPError"), message,
                          headers=getattr(exc, "headers", None) or None)


def _internal_error(request: Request, exc: Exception) -> Response:
    rid = _request_id(request)
    log.error("request %s failed", rid, exc_info=exc)
    return error_response(request, 500, "InternalError",
                          f"the server failed on this request; quote request id {rid} when reporting it")


def _endpoint(route: Route, services: Services, limiter: RateLimiter) -> Callable[..., Any]:
    settings = services.settings
    keyring = services.keyring

    async def endpoint(request: Request) -> Response:
        rid = _request_id(request)
        client = request.client.host if request.client else None
        principal = authenticate(settings, keyring, request.url.path, client, request.headers)
        if principal is not None:
            limiter.check(principal.key_id or f"client:{client}")
        if route.scope is not None and (principal is None or not principal.can(route.scope)):
            raise Forbidden(f"this key lacks the {route.scope} scope")
        if route.method == "GET":
            req = http_io.build_input(route, {}, request.path_params,
                                      http_io.query_dict(route, request.query_params))
        elif route.request_body == "ndjson":
            http_io.check_media_type(request.headers.get("content-type"),
                                     ("application/x-ndjson", "application/jsonl", "application/json",
                                      "text/plain", "application/octet-stream", "application/vnd.sqlite3"))
            params = http_io.build_input(route, {}, request.path_params,
                                         http_io.query_dict(route, request.query_params))
            spooled = await http_io.spool_body(request.stream(), settings.max_import_bytes)
            req = msgspec.structs.replace(params, lines=spooled)
        else:
            http_io.check_media_type(request.headers.get("content-type"), http_io.JSON_TYPES)
            body = await http_io.read_body(request.stream(), settings.max_body_bytes,
                                           request.headers.get("content-length"))
            req = http_io.build_input(route, http_io.decode_json_body(body), request.path_params)
        # Public routes (healthz) run with no team and no scope.
        ctx = services.context(principal or Principal(team_id="", scopes=frozenset()), rid)
        headers = {REQUEST_ID: rid}
        if route.response_body == "ndjson":
            spooled_out = await anyio.to_thread.run_sync(partial(_spool, route.handler(req, ctx)))
            return Stream(_chunks(spooled_out), media_type="application/x-ndjson", headers=headers,
                          status_code=route.status)
        result = await anyio.to_thread.run_sync(partial(route.handler, req, ctx))
        status = route.status_for(result) if route.status_for else route.status
        if route.response_body == "text":
            return Response(content=result.text, status_code=status, media_type="text/plain; charset=utf-8",
                            headers=headers)
        return Response(content=_enc.encode(result), status_code=status,
                        media_type="application/json", headers=headers)

    endpoint.__name__ = route.name
    return endpoint


def _spool(lines: Iterator[bytes]) -> Any:
    """Run a streaming handler to the end in one thread (its transaction stays on one connection)."""
    f = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)
    for line in lines:
        f.write(line)
    f.seek(0)
    return f


async def _chunks(f: Any) -> AsyncIterator[bytes]:
    try:
        while chunk := await anyio.to_thread.run_sync(f.read, 256 * 1024):
            yield chunk
    finally:
        f.close()


def _litestar_path(path: str) -> str:
    return "/".join(f"{{{seg[1:-1]}:str}}" if seg.startswith("{") else seg for seg in path.split("/"))


def create_app(settings: Settings, services: Services | None = None, *, start_queue: bool = True) -> Litestar:
    services = services or Services(settings)
    limiter = RateLimiter(settings.rate_limit_per_min)
    handlers = [
        HTTPRouteHandler(path=_litestar_path(r.path), http_method=r.method, name=r.name,
                         status_code=r.status, include_in_schema=False)(_endpoint(r, services, limiter))
        for r in MANIFEST
    ]
    document = _enc.encode(build_openapi())

    async def openapi_json() -> Response:
        return Response(content=document, media_type="application/json")

    handlers.append(HTTPRouteHandler(path="/schema/openapi.json", http_method="GET",
                                     include_in_schema=False)(openapi_json))
    handlers += Viewer(services, limiter).route_handlers()
    mcp = McpEndpoint(services, limiter)
    handlers.append(asgi("/mcp", is_mount=True, copy_scope=True, include_in_schema=False)(mcp.__call__))

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if start_queue:
            services.start()
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(services.close)

    cors = None
    if settings.cors_origins.strip():
        cors = CORSConfig(allow_origins=[o.strip() for o in settings.cors_origins.split(",") if o.strip()],
                          allow_headers=["Authorization", "Content-Type", "X-Api-Key", "X-Request-Id"],
                          allow_methods=["GET", "POST", "PATCH", "DELETE", "OPTIONS"])
    app = Litestar(
        route_handlers=handlers,
        exception_handlers={HandlerError: _handler_error, HTTPException: _http_error,
                            Exception: _internal_error},
        openapi_config=None,
        logging_config=None,
        lifespan=[lifespan, mcp.lifespan],
        cors_config=cors,
        request_max_body_size=max(settings.max_body_bytes, settings.max_import_bytes),
        debug=False,
    )
    app.state.services = services
    return app


