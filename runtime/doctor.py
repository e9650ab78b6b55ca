# SPDX-License-Identifier: Apache-2.0
"""`server doctor`: what this machine and configuration can do, one check per line."""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass

from claude_mem.storage.connection import capabilities

from .process import port_free, running
from .settings import Settings, env_name, is_loopback


@dataclass
class CheckResult:
    name: str
    ok: bool
    detail: str


def run_checks(settings: Settings) -> list[CheckResult]:
    caps = capabilities()
    out = [
        CheckResult("python", sys.version_info >= (3, 11), sys.version.split()[0]),
        CheckResult("sqlite", tuple(int(x) for x in caps.sqlite_version.split(".")[:2]) >= (3, 35),
                    f"{caps.sqlite_version} via {caps.driver}"),
        CheckResult("fts5", caps.fts5, "full-text search available" if caps.fts5 else "SQLite lacks FTS5"),
        CheckResult("sqlite-vec", caps.vec,
                    f"{caps.vec_version} loaded" if caps.vec else
                    f"{caps.vec_error}; search runs full-text only"),
    ]
    data = settings.data_path
    try:
        data.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=data, prefix=".doctor-"):
            pass
        out.append(CheckResult("data dir", True, f"{data} is writable"))
    except OSError as exc:
        out.append(CheckResult("data dir", False, f"{data}: {exc.strerror or exc}"))
    info = running(settings)
    if info is not None:
        out.append(CheckResult("port", True, f"{info.port} is served by this data dir's server (pid {info.pid})"))
    elif port_free(settings.host, settings.port):
        out.append(CheckResult("port", True, f"{settings.host}:{settings.port} is free"))
    else:
        out.append(CheckResult("port", False, f"{settings.host}:{settings.port} is taken by another process "
                                              f"(set {env_name('port')})"))
    if settings.queue_engine == "sqlite":
        out.append(CheckResult("queue", True, "sqlite engine: worker threads inside the server"))
    elif settings.redis_mode == "managed" and not settings.valkey_url:
        out.append(CheckResult("queue", True, "dramatiq engine, managed valkey (started with the server)"))
    else:
        from claude_mem.queue.valkey import reachable
        why = reachable(settings.valkey_url, timeout=2.0)
        out.append(CheckResult("queue", why is None, f"dramatiq engine, valkey at {settings.valkey_url}: "
                               + ("answers" if why is None else why)))
    if settings.embedder == "static" and caps.vec:
        try:
            from claude_mem.storage.embedder import default_embedder
            default_embedder()
            out.append(CheckResult("embedder", True, "static (shipped), 384-d; hybrid search"))
        except Exception as exc:
            out.append(CheckResult("embedder", False, f"the shipped model did not load: {exc}"))
    else:
        out.append(CheckResult("embedder", True, "none: search is full-text only"))
    safe = settings.auth_mode == "api-key" or is_loopback(settings.host)
    out.append(CheckResult("auth", safe, f"{settings.auth_mode} on {settings.host}"))
    if os.environ.get("CLAUDE_MEM_URL"):
        out.append(CheckResult("client", True, f"CLAUDE_MEM_URL={os.environ['CLAUDE_MEM_URL']}"))
    return out
