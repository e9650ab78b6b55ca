# SPDX-License-Identifier: Apache-2.0
"""Who is calling: the principal of a request, before any handler runs.

`local-dev`: a request from a loopback peer, with no forwarded headers, acts as the local team
with every scope. `api-key`: a bearer key is required on every route but `/healthz`.
"""

from __future__ import annotations

from collections.abc import Mapping

from claude_mem.handlers.context import Principal
from claude_mem.handlers.errors import Unauthorized

from .settings import Settings, is_loopback

FORWARDED_HEADERS = ("forwarded", "x-forwarded-for", "x-forwarded-host", "x-real-ip")
PUBLIC_PATHS = frozenset({"/healthz"})


def is_local_request(client_host: str | None, headers: Mapping[str, str]) -> bool:
    if not client_host or not is_loopback(client_host):
        return False
    return not any(h in headers for h in FORWARDED_HEADERS)


def authenticate(settings: Settings, path: str, client_host: str | None,
                 headers: Mapping[str, str]) -> Principal | None:
    """The caller's principal; None for public paths; Unauthorized when it cannot be known."""
    if settings.auth_mode == "local-dev":
        if is_local_request(client_host, headers):
            return Principal.local()
        if path in PUBLIC_PATHS:
            return None
        raise Unauthorized("local-dev mode answers only unforwarded requests from this machine")
    if path in PUBLIC_PATHS:
        return None
    raise Unauthorized("an API key is required (Authorization: Bearer <key>)")
