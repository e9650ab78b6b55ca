# SPDX-License-Identifier: Apache-2.0
"""Helpers the tests share (fixtures are in conftest.py)."""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


class LiveServer:
    """`claude-mem server start` as a real process on a free port, for tests over real HTTP."""

    def __init__(self, data_dir: Path, **env: str):
        import subprocess
        import sys
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDE_MEM_")}
        self.env |= {"CLAUDE_MEM_DATA_DIR": str(data_dir), "CLAUDE_MEM_PORT": str(self.port), **env}
        self.proc = subprocess.Popen([sys.executable, "-m", "claude_mem.cli", "server", "start"], env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self._up, timeout=30, interval=0.1)

    def _up(self) -> bool:
        import urllib.request
        if self.proc.poll() is not None:
            raise AssertionError(f"the server exited with {self.proc.returncode}")
        try:
            with urllib.request.urlopen(self.base + "/healthz", timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    def call(self, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
        import urllib.error
        import urllib.request
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                raw = r.read()
                ctype = r.headers.get("content-type", "")
                return r.status, json.loads(raw) if ctype.startswith("application/json") else raw.decode()
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except Exception:
            self.proc.kill()


@contextmanager
def api_key_server(data_dir: Path, team: str) -> Iterator[tuple[LiveServer, Any]]:
    """A live server in api-key mode with `team` created, and an operator context on the same
    data directory (to create and revoke keys as `claude-mem server api-key` would)."""
    from claude_mem.handlers import contracts as c
    from claude_mem.handlers import teams
    from claude_mem.handlers.context import Principal
    from claude_mem.runtime.services import Services
    from claude_mem.runtime.settings import load
    live = LiveServer(data_dir, CLAUDE_MEM_AUTH_MODE="api-key")
    operator = Services(load({"CLAUDE_MEM_DATA_DIR": str(data_dir)}), queue=None)
    try:
        ctx = operator.context(Principal.local())
        teams.create_team(c.TeamCreate(name=team), ctx)
        yield live, ctx
    finally:
        live.stop()
        operator.close()
