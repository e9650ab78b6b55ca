# SPDX-License-Identifier: Apache-2.0
"""Helpers the tests share (fixtures are in conftest.py)."""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# Claude Code hook samples live in the shared/ folder beside the repository checkout.
HOOK_SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "reference" / "claude-code-hooks"


def hook_sample(name: str) -> dict[str, Any]:
    path = HOOK_SAMPLES / f"{name}.json"
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"hook samples not found at {HOOK_SAMPLES}: CI runs with shared/ beside the clone")
        pytest.skip(f"hook samples not found at {HOOK_SAMPLES}")
    return json.loads(path.read_text())


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loopback(app: Any) -> Any:
    """The test client's peer is "testclient"; present it as a loopback peer, as curl would be."""
    async def asgi(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = dict(scope, client=("127.0.0.1", 50000))
        await app(scope, receive, send)
    return asgi
