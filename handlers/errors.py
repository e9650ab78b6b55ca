# SPDX-License-Identifier: Apache-2.0
"""Errors a handler raises for a caller's mistake. Every surface maps them the same way:
REST to the status and JSON error body, the CLI to a message and exit code 2, MCP to a tool error."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Issue:
    path: str
    message: str


class HandlerError(Exception):
    status = 400
    kind = "BadRequest"

    def __init__(self, message: str, issues: list[Issue] | None = None):
        super().__init__(message)
        self.message = message
        self.issues = issues or []


class Invalid(HandlerError):
    """The input is well-formed but wrong; `path` names the field (`$.query`)."""

    status = 400
    kind = "ValidationError"

    def __init__(self, path: str, message: str):
        super().__init__(f"{message} - at `{path}`", [Issue(path, message)])


class Unauthorized(HandlerError):
    status = 401
    kind = "Unauthorized"


class Forbidden(HandlerError):
    status = 403
    kind = "Forbidden"


class NotFound(HandlerError):
    status = 404
    kind = "NotFound"


class Conflict(HandlerError):
    status = 409
    kind = "Conflict"


class TooLarge(HandlerError):
    status = 413
    kind = "PayloadTooLarge"


class Unavailable(HandlerError):
    status = 503
    kind = "Unavailable"
