# SPDX-License-Identifier: Apache-2.0
"""How a CLI command reaches a handler: over HTTP to `CLAUDE_MEM_URL` (with `CLAUDE_MEM_API_KEY`),
or in-process on the local data directory. Either way it is the manifest's handler that runs."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import msgspec

from claude_mem.handlers.errors import HandlerError
from claude_mem.handlers.manifest import BY_NAME, Route


class RemoteError(HandlerError):
    """An error answer from a remote server, carried as the handler error it stands for."""

    def __init__(self, status: int, kind: str, message: str):
        super().__init__(message)
        self.status = status
        self.kind = kind


class Unreachable(Exception):
    pass


class RemoteInvoker:
    def __init__(self, url: str, api_key: str | None = None, timeout: float = 30.0):
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout

    def call(self, name: str, req: Any) -> Any:
        route = BY_NAME[name]
        fields = msgspec.to_builtins(req)
        path = route.path
        for p in route.path_params:
            path = path.replace("{" + p + "}", urllib.parse.quote(str(fields.pop(p)), safe=""))
        headers = {"Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        data = None
        if route.method == "GET":
            query = {k: ",".join(map(str, v)) if isinstance(v, list) else v
                     for k, v in fields.items() if v is not None}
            if query:
                path += "?" + urllib.parse.urlencode(query)
        else:
            data = msgspec.json.encode({k: v for k, v in fields.items() if v is not None})
            headers["Content-Type"] = "application/json"
        return self._send(route, path, data, headers)

    def upload(self, name: str, req: Any, chunks: Any, content_type: str = "application/x-ndjson") -> Any:
        """A streaming body (chunked), the other fields as query parameters: for imports."""
        route = BY_NAME[name]
        fields = {k: v for k, v in msgspec.to_builtins(req).items() if k != "lines" and v not in (None, [], False)}
        query = [(k, ",".join(map(str, v)) if isinstance(v, list) else str(v).lower() if isinstance(v, bool) else v)
                 for k, v in fields.items()]
        path = route.path + ("?" + urllib.parse.urlencode(query) if query else "")
        headers = {"Accept": "application/json", "Content-Type": content_type}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return self._send(route, path, chunks, headers, timeout=3600)  # the server answers once it is all in

    def _send(self, route: Route, path: str, data: Any, headers: dict[str, str],
              timeout: float | None = None) -> Any:
        request = urllib.request.Request(self.url + path, data=data, method=route.method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout or self.timeout) as resp:
                body = resp.read()
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                err = json.loads(raw)
                raise RemoteError(exc.code, err.get("error", "HTTPError"), err.get("message", str(exc))) from None
            except ValueError:
                raise RemoteError(exc.code, "HTTPError", f"HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise Unreachable(f"cannot reach {self.url}: {getattr(exc, 'reason', exc)}") from None
        return msgspec.json.decode(body, type=route.response_type)


class LocalInvoker:
    """In-process on the local data dir, as the local team (the data dir is the user's own)."""

    def __init__(self, settings: Any):
        from claude_mem.runtime.services import Services
        self.services = Services(settings, queue="inline")

    def call(self, name: str, req: Any) -> Any:
        from claude_mem.handlers.context import Principal
        route: Route = BY_NAME[name]
        out = route.handler(req, self.services.context(Principal.local()))
        self.services.queue.run()  # events written by this command are distilled before it ends
        return out

    def close(self) -> None:
        self.services.close()


def invoker(settings_loader: Any) -> Any:
    url = os.environ.get("CLAUDE_MEM_URL")
    if url:
        return RemoteInvoker(url, os.environ.get("CLAUDE_MEM_API_KEY"))
    return LocalInvoker(settings_loader())
