# SPDX-License-Identifier: Apache-2.0
"""Who is calling: the principal of a request, before any handler runs.

A request that carries a key (`Authorization: Bearer <key>` or `X-Api-Key`) is that key's
principal in every mode. Without a key: in `local-dev`, an unforwarded request from a loopback
peer acts as the local team with every scope; in `api-key`, only `/healthz` answers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping

from claude_mem.handlers.context import Principal
from claude_mem.handlers.errors import HandlerError, Unauthorized

from .keyring import Keyring
from .settings import Settings, is_loopback

FORWARDED_HEADERS = ("forwarded", "x-forwarded-for", "x-forwarded-host", "x-real-ip")
PUBLIC_PATHS = frozenset({"/healthz"})


class TooManyRequests(HandlerError):
    status = 429
    kind = "TooManyRequests"

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


def _host_name(host_header: str) -> str:
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def is_loopback_host_header(host_header: str | None) -> bool:
    """Whether the Host names this machine. A web page that points its own name at 127.0.0.1
    (DNS rebinding) sends its own name here, so it never passes as a local caller."""
    if not host_header:
        return True  # HTTP/1.0 clients; browsers always send Host
    name = _host_name(host_header)
    return name == "localhost" or name.endswith(".localhost") or is_loopback(name)


def is_local_request(client_host: str | None, headers: Mapping[str, str]) -> bool:
    if not client_host or not is_loopback(client_host):
        return False
    if not is_loopback_host_header(headers.get("host")):
        return False
    return not any(h in headers for h in FORWARDED_HEADERS)


def token_from(headers: Mapping[str, str]) -> str | None:
    auth = headers.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorized("use Authorization: Bearer <key>")
        return value.strip()
    key = headers.get("x-api-key")
    return key.strip() if key else None


def authenticate(settings: Settings, keyring: Keyring, path: str, client_host: str | None,
                 headers: Mapping[str, str]) -> Principal | None:
    """The caller's principal; None for public paths; Unauthorized when it cannot be known."""
    if path in PUBLIC_PATHS:
        return None
    token = token_from(headers)
    if token:
        return keyring.principal_for(token)
    if settings.auth_mode == "local-dev":
        if is_local_request(client_host, headers):
            return Principal.local()
        raise Unauthorized("local-dev mode answers only unforwarded requests from this machine, "
                           "addressed to localhost or a loopback address")
    raise Unauthorized("an API key is required (Authorization: Bearer <key>)")


class RateLimiter:
    """A fixed one-minute window per key (or per client without one): 429 with Retry-After."""

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self._windows: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def check(self, who: str) -> None:
        if self.per_minute <= 0:
            return
        now = time.time()
        window = int(now // 60)
        with self._lock:
            start, count = self._windows.get(who, (window, 0))
            if start != window:
                start, count = window, 0
            count += 1
            self._windows[who] = (start, count)
            if len(self._windows) > 100_000:
                self._windows = {k: v for k, v in self._windows.items() if v[0] == window}
        if count > self.per_minute:
            retry = max(1, int((window + 1) * 60 - now) + 1)
            raise TooManyRequests(f"over {self.per_minute} requests a minute for this key", retry)
