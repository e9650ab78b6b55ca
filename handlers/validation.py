# SPDX-License-Identifier: Apache-2.0
"""Turning msgspec's validation messages into an error naming the field path."""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec

from .errors import Invalid

T = TypeVar("T")
_AT = re.compile(r"^(.*) - at `(\$[^`]*)`$", re.DOTALL)
_MISSING = re.compile(r"Object missing required field `([^`]+)`")


def validation_issue(message: str) -> tuple[str, str]:
    """(`$.path`, message) from a msgspec ValidationError text."""
    m = _AT.match(message)
    path, text = (m.group(2), m.group(1)) if m else ("$", message)
    missing = _MISSING.search(text)
    if missing:
        path = f"{path}.{missing.group(1)}"
    return path, text


def convert(data: Any, typ: type[T], *, strict: bool = True) -> T:
    """Validate already-parsed data (CLI flags, MCP arguments, query strings) into `typ`."""
    try:
        return msgspec.convert(data, typ, strict=strict)
    except msgspec.ValidationError as exc:
        path, message = validation_issue(str(exc))
        raise Invalid(path, message) from None
