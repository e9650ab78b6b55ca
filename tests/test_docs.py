# SPDX-License-Identifier: Apache-2.0
"""The docs stay true: the settings table matches the settings code, every curl example in
docs/api.md runs against a live server, the OpenAPI file is the API's, and the README links them."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import msgspec
import pytest

from claude_mem.handlers import contracts as c
from claude_mem.handlers import teams
from claude_mem.handlers.context import Principal
from claude_mem.runtime.openapi import build_openapi
from claude_mem.runtime.services import Services
from claude_mem.runtime.settings import Settings, env_name, load
from support import LiveServer

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def _shown(value: object) -> str:
    if value is None:
        return "(unset)"
    if value == "":
        return "(empty)"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"


def test_the_settings_table_matches_the_code():
    rows = re.findall(r"^\| `(CLAUDE_MEM_[A-Z0-9_]+)` \| ([^|]+) \|", (DOCS / "server.md").read_text(), re.M)
    documented = {name: default.strip() for name, default in rows}
    fields = {env_name(f.name): f.default for f in msgspec.structs.fields(Settings)}
    assert set(documented) == set(fields), "docs/server.md and runtime/settings.py list different settings"
    for name, default in fields.items():
        assert documented[name] == _shown(default), name


def test_the_openapi_file_is_the_apis():
    """Regenerate with: python -c 'from claude_mem.runtime.openapi import write_snapshot; write_snapshot()'"""
    committed = json.loads((DOCS / "openapi.json").read_text())
    current = json.loads(json.dumps(build_openapi()))
    committed["info"].pop("version", None)
    current["info"].pop("version", None)
    assert committed == current, "the API changed: regenerate docs/openapi.json and review the diff"


def test_the_readme_links_every_doc():
    readme = (ROOT / "README.md").read_text()
    for doc in DOCS.glob("*.md"):
        assert f"docs/{doc.name}" in readme, doc.name


def test_the_api_examples_run(tmp_path):
    if not (shutil.which("curl") and shutil.which("jq")):
        pytest.skip("the docs' examples use curl and jq; one of them is not installed")
    blocks = re.findall(r"```sh\n(.*?)```", (DOCS / "api.md").read_text(), re.S)
    runnable = [b for b in blocks if "v4.public...." not in b]
    assert len(runnable) >= 8
    data = tmp_path / "data"
    server = LiveServer(data, CLAUDE_MEM_AUTH_MODE="api-key")
    operator = Services(load({"CLAUDE_MEM_DATA_DIR": str(data)}), queue=None)
    try:
        ctx = operator.context(Principal.local())
        teams.create_team(c.TeamCreate(name="docs"), ctx)
        key = teams.create_key(c.KeyCreate(team="docs", scopes=["memories:read", "memories:write",
                                                                "memories:forget"]), ctx).token
        env = {**os.environ, "URL": server.base, "KEY": key}
        # One shell session, as a reader would type them: variables (MEM) carry over.
        script = "set -euo pipefail\n" + "".join(f"echo '::example {i + 1}' >&2\n{b}" for i, b in enumerate(runnable))
        done = subprocess.run(["bash", "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True,
                              timeout=120)
        failed = (re.findall(r"::example (\d+)", done.stderr) or ["?"])[-1]
        assert done.returncode == 0, f"docs/api.md example {failed} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
        assert done.stderr.count("::example") == len(runnable)
    finally:
        server.stop()
        operator.close()
