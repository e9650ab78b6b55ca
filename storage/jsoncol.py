# SPDX-License-Identifier: Apache-2.0
"""JSON text columns (facts, metadata, payloads): one encoder and decoder for the whole store."""

from __future__ import annotations

from typing import Any

import msgspec

_enc = msgspec.json.Encoder(order="sorted")
_dec = msgspec.json.Decoder()


def dumps(value: Any) -> str:
    """Canonical JSON (sorted keys), so equal values are equal text: hashes and exports rely on it."""
    return _enc.encode(value).decode("utf-8")


def loads(text: str | bytes | None, default: Any = None) -> Any:
    if text is None or text == "":
        return default
    return _dec.decode(text)
