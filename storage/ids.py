# SPDX-License-Identifier: Apache-2.0
"""Sortable string ids: a type prefix and a ULID (48-bit milliseconds, 80 random bits).

Ids made in the same millisecond by one process stay ordered: the random part is incremented.
"""

from __future__ import annotations

import os
import threading
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_lock = threading.Lock()
_last_ms = -1
_last_rand = 0


def _encode(value: int, length: int) -> str:
    out = []
    for _ in range(length):
        out.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(out))


def ulid(now_ms: int | None = None) -> str:
    """A 26-character ULID, monotonic within this process."""
    global _last_ms, _last_rand
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    with _lock:
        if ms <= _last_ms:
            ms = _last_ms
            _last_rand = (_last_rand + 1) & ((1 << 80) - 1)
        else:
            _last_ms = ms
            _last_rand = int.from_bytes(os.urandom(10), "big") >> 1
        rand = _last_rand
    return _encode(ms, 10) + _encode(rand, 16)


def new_id(prefix: str) -> str:
    """`<prefix>_<ulid>`, e.g. `mem_01JD…`."""
    return f"{prefix}_{ulid()}"


def stable_id(prefix: str, at_ms: int, *key: str) -> str:
    """An id that is the same every time for the same key: imports use it to add nothing on a re-run.
    Its time part is the record's own time, so it sorts with the ids made live."""
    import hashlib
    digest = hashlib.sha256("\0".join(key).encode("utf-8")).digest()
    return f"{prefix}_{_encode(max(0, at_ms) & ((1 << 48) - 1), 10)}{_encode(int.from_bytes(digest[:10], 'big'), 16)}"
