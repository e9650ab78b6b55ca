# SPDX-License-Identifier: Apache-2.0
"""The viewer: server-rendered pages at `/` and `/ui/...` to browse, search and curate memories and
to watch the queue.

Every page calls the same handlers as `/v1` (scopes from the manifest, so a read-only key gets no
write actions); this module only turns their answers into HTML. Sign-in: on loopback in
`local-dev` the pages just work; otherwise a key is entered once and kept in an HttpOnly,
SameSite=Strict cookie. Every form that changes something carries a CSRF token bound to that
cookie, and every page is sent with a strict Content-Security-Policy (no inline script or style).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, get_args
from urllib.parse import quote, urlencode

import anyio
import msgspec
from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Request, Response
from litestar.handlers import HTTPRouteHandler
from litestar.response import Redirect, ServerSentEvent
from litestar.static_files import create_static_files_router
from markupsafe import Markup, escape

from claude_mem.handlers import contracts as c
from claude_mem.handlers.context import Principal
from claude_mem.handlers.errors import HandlerError, Unauthorized
from claude_mem.handlers.manifest import BY_NAME

from .auth import RateLimiter, authenticate
from .services import Services

HERE = Path(__file__).parent
COOKIE = "claude_mem_key"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
                    "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY", "Cache-Control": "no-store"}
STREAM_POLL_S = 1.0
STREAM_MAX_S = 600  # then the browser reconnects (EventSource does it by itself)
MODES = ("hybrid", "fts", "vector")


def _when(epoch_ms: int | None) -> str:
    if not epoch_ms:
        return ""
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


_MARK = re.compile(r"\[([^\[\]]{1,200})\]")


def _highlight(snippet: str) -> Markup:
    """A search snippet with its matched words (between [ and ]) marked, everything else escaped."""
    text = str(escape(snippet))
    return Markup(_MARK.sub(r"<mark>\1</mark>", text))


def _make(cls: type, **fields: Any) -> Any:
    """A handler input from form or query values, validated as the API validates a body (a
    Struct built directly would skip its constraints)."""
    camel = {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), k): v for k, v in fields.items() if v is not None}
    return msgspec.convert(camel, cls)


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["when"] = _when
    env.filters["highlight"] = _highlight
    env.filters["q"] = lambda s: quote(str(s), safe="")
    return env


class Viewer:
    """The viewer's routes, bound to the server's services."""

    def __init__(self, services: Services, limiter: RateLimiter):
        self.services = services
        self.settings = services.settings
        self.limiter = limiter
        self.env = _environment()
        self._csrf_secret = secrets.token_bytes(32)

    # -- who is asking -----------------------------------------------------------------------------

    def principal(self, request: Request) -> Principal | None:
        """From the viewer's cookie, else as the API authenticates (a key header, or local-dev
        on loopback); None when the caller must sign in."""
        token = request.cookies.get(COOKIE)
        client = request.client.host if request.client else None
        try:
            if token:
                return self.services.keyring.principal_for(token)
            return authenticate(self.settings, self.services.keyring, request.url.path, client, request.headers)
        except Unauthorized:
            return None

    def csrf(self, request: Request) -> str:
        """A token bound to the caller's cookie (or to local-dev): a form from another site cannot
        carry it."""
        basis = request.cookies.get(COOKIE) or "local-dev"
        return hmac.new(self._csrf_secret, basis.encode(), hashlib.sha256).hexdigest()

    def check_csrf(self, request: Request, form: Any) -> None:
        sent = str(form.get("csrf", ""))
        origin = request.headers.get("origin")
        host = request.headers.get("host", "")
        if origin and origin.split("://", 1)[-1] != host:
            raise _Refused(403, "this form came from another site")
        if not hmac.compare_digest(sent, self.csrf(request)):
            raise _Refused(403, "the form's security token is stale or missing: reload the page and try again")

    # -- rendering -----------------------------------------------------------------------------------

    def page(self, request: Request, principal: Principal | None, template: str, status: int = 200,
             **values: Any) -> Response:
        can = (lambda route: principal is not None and principal.can(BY_NAME[route].scope)) \
            if principal is not None else (lambda route: False)
        html = self.env.get_template(template).render(
            csrf=self.csrf(request), can=can, principal=principal, path=request.url.path,
            auth_mode=self.settings.auth_mode, signed_in_by_cookie=bool(request.cookies.get(COOKIE)), **values)
        return Response(content=html, status_code=status, media_type="text/html",
                        headers=SECURITY_HEADERS)

    async def call(self, principal: Principal, route: str, req: Any) -> Any:
        """Run a handler from the manifest as the caller, after its scope check."""
        scope = BY_NAME[route].scope
        if scope is not None and not principal.can(scope):
            raise _Refused(403, f"this key lacks the {scope} scope")
        ctx = self.services.context(principal)
        return await anyio.to_thread.run_sync(partial(BY_NAME[route].handler, req, ctx))

    # -- the routes ----------------------------------------------------------------------------------

    def route_handlers(self) -> list[Any]:
        v = self

        def guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
            async def wrapper(request: Request) -> Response:
                principal = v.principal(request)
                if principal is None:
                    if request.method == "GET":
                        return Redirect(path=f"/ui/login?{urlencode({'next': request.url.path})}",
                                        headers=SECURITY_HEADERS)
                    return v.page(request, None, "error.html", 401, message="Sign in first.")
                v.limiter.check(principal.key_id or f"client:{request.client.host if request.client else ''}")
                try:
                    return await fn(request, principal)
                except _Refused as exc:
                    return v.page(request, principal, "error.html", exc.status, message=exc.message)
                except HandlerError as exc:
                    return v.page(request, principal, "error.html", exc.status, message=exc.message)
                except msgspec.ValidationError as exc:
                    return v.page(request, principal, "error.html", 400, message=str(exc))
            wrapper.__name__ = fn.__name__
            return wrapper

        async def project_names(principal: Principal) -> dict[str, str]:
            out = await v.call(principal, "list_projects", c.ProjectListIn())
            return {p.id: p.name for p in out.projects}

        def filters(request: Request) -> dict[str, Any]:
            q = request.query_params
            return {"project_id": q.get("project") or None, "kind": q.get("kind") or None,
                    "type": q.get("type") or None, "session_id": q.get("session") or None}

        def list_input(f: dict[str, Any], limit: int) -> c.MemoryListIn:
            return _make(c.MemoryListIn, project_id=f["project_id"], kinds=[f["kind"]] if f["kind"] else None,
                         types=[f["type"]] if f["type"] else None, session_id=f["session_id"], limit=limit)

        async def stream_page(request: Request, principal: Principal) -> Response:
            f = filters(request)
            names = await project_names(principal)
            listed = await v.call(principal, "list_memories", list_input(f, 50))
            return v.page(request, principal, "stream.html", memories=listed.memories, names=names,
                          filters=f, kinds=get_args(c.MemoryKind), types=get_args(c.MemoryType),
                          stream_query=urlencode({k: v_ for k, v_ in request.query_params.items()
                                                  if k in ("project", "kind", "type", "session")}),
                          flash=request.query_params.get("flash"))

        async def stream(request: Request, principal: Principal) -> Any:
            f = filters(request)
            list_in = list_input(f, 1)  # validated now: a bad filter is a 400, not a broken stream
            names = await project_names(principal)
            item = v.env.get_template("_memory_item.html")

            async def events_() -> AsyncIterator[dict[str, str]]:
                since = v.services.context(principal).now()
                seen: set[str] = set()
                loop = asyncio.get_running_loop()
                started = loop.time()
                while loop.time() - started < STREAM_MAX_S:
                    current = await anyio.to_thread.run_sync(v.principal, request)
                    if current is None:  # the key was revoked or expired: the stream ends here
                        yield {"event": "signed-out", "data": "sign in again"}
                        return
                    out = await v.call(current, "list_memories",
                                       msgspec.structs.replace(list_in, since_epoch=since, limit=100))
                    for m in reversed(out.memories):  # oldest first: the page prepends each
                        if m.id in seen:
                            continue
                        seen.add(m.id)
                        since = max(since, m.created_at_epoch)
                        yield {"event": "memory", "id": m.id, "data": item.render(m=m, names=names).replace("\n", " ")}
                    seen = {m.id for m in out.memories if m.created_at_epoch >= since}
                    if not out.memories:
                        yield {"comment": "waiting"}  # a closed connection shows up here
                    await asyncio.sleep(STREAM_POLL_S)
            return ServerSentEvent(events_(), headers={**SECURITY_HEADERS, "X-Accel-Buffering": "no"})

        async def search_page(request: Request, principal: Principal) -> Response:
            q = request.query_params
            query = q.get("q", "")
            mode = q.get("mode") or "hybrid"
            project_id = q.get("project") or None
            names = await project_names(principal)
            result = None
            if query.strip():
                result = await v.call(principal, "search", _make(c.SearchIn, query=query, mode=mode,
                                                                   project_id=project_id, limit=30))
            return v.page(request, principal, "search.html", query=query, mode=mode, modes=MODES,
                          project_id=project_id, names=names, result=result)

        async def memory_page(request: Request, principal: Principal) -> Response:
            mid = request.path_params["id"]
            memory = (await v.call(principal, "get_memory", _make(c.ById, id=mid))).memory
            names = await project_names(principal)
            sources = []
            for eid in memory.source_event_ids[:20]:
                try:
                    sources.append((await v.call(principal, "get_event", _make(c.ById, id=eid))).event)
                except HandlerError:
                    continue
            newer = []
            nxt = memory.superseded_by
            while nxt and len(newer) < 10:
                try:
                    m = (await v.call(principal, "get_memory", c.ById(id=nxt))).memory
                except HandlerError:
                    break
                newer.append(m)
                nxt = m.superseded_by
            return v.page(request, principal, "memory.html", m=memory, names=names, sources=sources,
                          newer=newer, flash=request.query_params.get("flash"))

        async def forget_action(request: Request, principal: Principal) -> Response:
            form = await request.form()
            v.check_csrf(request, form)
            mid = request.path_params["id"]
            await v.call(principal, "forget", _make(c.ForgetIn, ids=[mid]))
            return Redirect(path="/?" + urlencode({"flash": f"Memory {mid} forgotten."}), status_code=303,
                            headers=SECURITY_HEADERS)

        async def supersede_action(request: Request, principal: Principal) -> Response:
            form = await request.form()
            v.check_csrf(request, form)
            mid = request.path_params["id"]
            narrative = str(form.get("narrative", "")).strip()
            if not narrative:
                raise _Refused(400, "narrative: write the corrected memory")
            out = await v.call(principal, "supersede_memory", _make(
                c.Supersede, id=mid, narrative=narrative, title=str(form.get("title", "")).strip() or None))
            return Redirect(path=f"/ui/memories/{quote(out.superseded_by.id)}?flash=Replaced+{quote(mid)}",
                            status_code=303, headers=SECURITY_HEADERS)

        async def session_page(request: Request, principal: Principal) -> Response:
            sid = request.path_params["id"]
            session = (await v.call(principal, "get_session_handler", _make(c.ById, id=sid))).session
            listed = await v.call(principal, "list_memories", _make(c.MemoryListIn, session_id=sid, limit=100))
            timeline = list(reversed(listed.memories))
            summaries = [(await v.call(principal, "get_memory", c.ById(id=m.id))).memory
                         for m in listed.memories if m.kind == "summary"][:3]
            names = await project_names(principal)
            return v.page(request, principal, "session.html", s=session, timeline=timeline,
                          summaries=summaries, names=names)

        async def queue_page(request: Request, principal: Principal) -> Response:
            overview = await v.call(principal, "queue_overview", c.QueueIn())
            return v.page(request, principal, "queue.html", qo=overview, flash=request.query_params.get("flash"))

        async def retry_action(request: Request, principal: Principal) -> Response:
            form = await request.form()
            v.check_csrf(request, form)
            eid = request.path_params["id"]
            out = await v.call(principal, "retry_event", _make(c.ById, id=eid))
            flash = f"Event {eid} is {out.event.status} again." if out.event.status == "pending" \
                else f"Event {eid} is {out.event.status}."
            return Redirect(path="/ui/queue?" + urlencode({"flash": flash}), status_code=303,
                            headers=SECURITY_HEADERS)

        async def context_page(request: Request, principal: Principal) -> Response:
            names = await project_names(principal)
            project_id = request.query_params.get("project") or (next(iter(names)) if names else None)
            query = request.query_params.get("q", "")
            pack = None
            if project_id:
                pack = await v.call(principal, "build_context", _make(c.ContextIn, project_id=project_id,
                                                                      query=query or None))
            return v.page(request, principal, "context.html", names=names, project_id=project_id,
                          query=query, pack=pack, budget=v.settings.context_tokens)

        async def login_page(request: Request) -> Response:
            nxt = _safe_next(request.query_params.get("next"))
            return v.page(request, v.principal(request), "login.html", next=nxt)

        async def login_action(request: Request) -> Response:
            form = await request.form()
            token = str(form.get("key", "")).strip()
            nxt = _safe_next(str(form.get("next", "/")))
            try:
                v.services.keyring.principal_for(token) if token else None
            except Unauthorized as exc:
                return v.page(request, None, "login.html", 401, next=nxt, error=exc.message)
            if not token:
                return v.page(request, None, "login.html", 400, next=nxt, error="key: paste an API key")
            response = Redirect(path=nxt, status_code=303, headers=SECURITY_HEADERS)
            response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/",
                                secure=request.url.scheme == "https")
            return response

        async def logout_action(request: Request) -> Response:
            form = await request.form()
            v.check_csrf(request, form)
            response = Redirect(path="/ui/login", status_code=303, headers=SECURITY_HEADERS)
            response.delete_cookie(COOKIE, path="/")
            return response

        async def refused_logout(request: Request) -> Response:
            try:
                return await logout_action(request)
            except _Refused as exc:
                return v.page(request, v.principal(request), "error.html", exc.status, message=exc.message)

        pages: list[tuple[str, str, Callable[..., Any], str]] = [
            ("GET", "/", guarded(stream_page), "ui_stream_page"),
            ("GET", "/ui", guarded(stream_page), "ui_home"),
            ("GET", "/ui/stream", guarded(stream), "ui_stream"),
            ("GET", "/ui/search", guarded(search_page), "ui_search"),
            ("GET", "/ui/memories/{id:str}", guarded(memory_page), "ui_memory"),
            ("POST", "/ui/memories/{id:str}/forget", guarded(forget_action), "ui_forget"),
            ("POST", "/ui/memories/{id:str}/supersede", guarded(supersede_action), "ui_supersede"),
            ("GET", "/ui/sessions/{id:str}", guarded(session_page), "ui_session"),
            ("GET", "/ui/queue", guarded(queue_page), "ui_queue"),
            ("POST", "/ui/events/{id:str}/retry", guarded(retry_action), "ui_retry"),
            ("GET", "/ui/context", guarded(context_page), "ui_context"),
            ("GET", "/ui/login", login_page, "ui_login"),
            ("POST", "/ui/login", login_action, "ui_login_post"),
            ("POST", "/ui/logout", refused_logout, "ui_logout"),
        ]
        handlers: list[Any] = []
        for method, path, fn, name in pages:
            fn.__name__ = name
            handlers.append(HTTPRouteHandler(path=path, http_method=method, name=name, include_in_schema=False,
                                             status_code=200)(fn))
        async def nosniff(response: Any) -> Any:
            response.headers["X-Content-Type-Options"] = "nosniff"
            return response
        handlers.append(create_static_files_router(path="/ui/static", directories=[HERE / "static"],
                                                   include_in_schema=False, name="ui_static",
                                                   after_request=nosniff))
        return handlers


class _Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def _safe_next(value: str | None) -> str:
    """Only a path on this server (no open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value

