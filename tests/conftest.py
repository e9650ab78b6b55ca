# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures: a real SQLite file per test, handler contexts, an HTTP client on the real app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from claude_mem.handlers.context import Context, Principal
from claude_mem.runtime.services import Services
from claude_mem.runtime.settings import Settings, load
from support import loopback


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return load({"CLAUDE_MEM_DATA_DIR": str(data_dir)})


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    """Store and the sqlite queue engine, started: events get drained in the background."""
    svc = Services(settings)
    svc.start()
    yield svc
    svc.close()


@pytest.fixture
def quiet_services(settings: Settings) -> Iterator[Services]:
    """Store with a queue that runs nothing: tests drain by hand."""
    svc = Services(settings, queue=None)
    yield svc
    svc.close()


@pytest.fixture
def ctx(quiet_services: Services) -> Context:
    return quiet_services.context(Principal.local(), "req_test")


@pytest.fixture
def client(settings: Settings) -> Iterator[Any]:
    from litestar.testing import TestClient

    from claude_mem.runtime.app import create_app
    app = create_app(settings)
    with TestClient(loopback(app), base_url="http://127.0.0.1:37777") as c:
        c.services = app.state.services
        yield c


@pytest.fixture(scope="session")
def real_valkey(tmp_path_factory):
    """One real Valkey for the session (tests isolate themselves with a key prefix)."""
    from valkey_support import make_valkey
    handle = make_valkey(tmp_path_factory.mktemp("valkey"))
    yield handle
    handle.close()


@pytest.fixture
def own_valkey(tmp_path):
    """A real Valkey of this test's own, for tests that stop and restart it."""
    from valkey_support import make_valkey
    handle = make_valkey(tmp_path / "valkey")
    yield handle
    handle.close()
