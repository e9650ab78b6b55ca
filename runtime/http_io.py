# SPDX-License-Identifier: Apache-2.0
"""From an HTTP request to a handler's input Struct, with errors that name the field.

Path, query and body fields land in one Struct: the body is parsed, path parameters are laid
over it, and the whole is validated by msgspec (strictly for JSON bodies; query strings are
coerced, since they are text by nature).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import AsyncIterator, Mapping
from typing import Any

import msgspec
import msgspec.inspect

from claude_mem.handlers.errors import HandlerError, Invalid, TooLarge
from claude_mem.handlers.manifest import Route
from claude_mem.handlers.validation import convert

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
JSON_TYPES = ("application/json",)


class MalformedJSON(HandlerError):
    status = 400
    kind = "MalformedJSON"


class UnsupportedMediaType(HandlerError):
    status = 415
    kind = "UnsupportedMediaType"


def safe_request_id(value: str | None) -> str | None:
    return value if value and _SAFE_REQUEST_ID.match(value) else None


def _is_list(t: Any) -> bool:
    """Whether a msgspec field type is a list (or an optional list)."""
    if isinstance(t, msgspec.inspect.ListType):
        return True
    if isinstance(t, msgspec.inspect.UnionType):
        return any(_is_list(x) for x in t.types)
    return False


def query_dict(route: Route, params: Any) -> dict[str, Any]:
    """Query parameters keyed by wire name; list fields accept repeats and commas."""
    out: dict[str, Any] = {}
    info = msgspec.inspect.type_info(route.request_type)
    by_wire = {f.encode_name: f for f in info.fields}
    for key in params.keys():
        field = by_wire.get(key)
        if field is None:
            continue
        values = params.getall(key)
        if _is_list(field.type):
            out[key] = [v for item in values for v in item.split(",") if v]
        else:
            out[key] = values[-1]
    return out


def check_media_type(content_type: str | None, accepted: tuple[str, ...]) -> None:
    if not content_type:
        return  # a bare body is read as the route's own type
    media = content_type.split(";")[0].strip().lower()
    if media in accepted or (media.endswith("+json") and "application/json" in accepted):
        return
    raise UnsupportedMediaType(f"Content-Type {media!r} is not accepted here; send {accepted[0]}")


async def read_body(chunks: AsyncIterator[bytes], limit: int, declared: str | None) -> bytes:
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"the body is {declared} bytes; the limit is {limit} (CLAUDE_MEM_MAX_BODY_BYTES)")
    buf = bytearray()
    async for chunk in chunks:
        buf += chunk
        if len(buf) > limit:
            raise TooLarge(f"the body is over {limit} bytes (CLAUDE_MEM_MAX_BODY_BYTES)")
    return bytes(buf)


async def spool_body(chunks: AsyncIterator[bytes], limit: int) -> Any:
    """Stream a large body (an import) to a temporary file; returns the file at offset 0."""
    f = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            f.close()
            raise TooLarge(f"the import is over {limit} bytes (CLAUDE_MEM_MAX_IMPORT_BYTES)")
        f.write(chunk)
    if size == 0:
        f.close()
        raise Invalid("$.body", "the body is empty: send the data to import")
    f.seek(0)
    return f


def decode_json_body(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        data = msgspec.json.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise MalformedJSON(f"the body is not valid UTF-8 JSON: {exc}") from None
    if not isinstance(data, dict):
        raise Invalid("$", f"Expected `object`, got `{type(data).__name__}`")
    return data


def build_input(route: Route, body: dict[str, Any], path_params: Mapping[str, Any],
                query: dict[str, Any] | None = None) -> Any:
    """The handler's input: body (or query) fields, with path parameters laid over them."""
    if query is not None:
        data = dict(query)
        data.update(path_params)
        return convert(data, route.request_type, strict=False)
    data = dict(body)
    data.update(path_params)
    return convert(data, route.request_type)
