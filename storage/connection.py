# SPDX-License-Identifier: Apache-2.0
"""The one way to open the database.

The standard library's sqlite3 on many Pythons cannot load extensions, so this picks the standard
module when it can and pysqlite3 otherwise; where neither can load sqlite-vec the server still runs
with full-text search only and `server doctor` says why.
"""

from __future__ import annotations

import sqlite3 as _std_sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

BUSY_TIMEOUT_MS = 10_000
CACHE_KIB = 65_536


def _pick_driver() -> tuple[ModuleType, str]:
    if hasattr(_std_sqlite3.connect(":memory:"), "enable_load_extension"):
        return _std_sqlite3, "sqlite3"
    try:
        import pysqlite3.dbapi2 as driver  # type: ignore[import-not-found]
    except ImportError:
        return _std_sqlite3, "sqlite3"
    return driver, "pysqlite3"


sqlite, DRIVER_NAME = _pick_driver()
"""The DB-API module in use (stdlib sqlite3 or pysqlite3) and its name."""


@dataclass(frozen=True)
class Capabilities:
    """What this SQLite build can do; read by doctor, /v1/info and the search code."""

    driver: str
    sqlite_version: str
    fts5: bool
    vec: bool
    vec_version: str | None
    vec_error: str | None


_caps: Capabilities | None = None
_caps_lock = threading.Lock()


def _load_vec(conn: Any) -> tuple[str | None, str | None]:
    """Load sqlite-vec into `conn`; returns (version, error)."""
    if not hasattr(conn, "enable_load_extension"):
        return None, f"the {DRIVER_NAME} module of this Python cannot load extensions"
    try:
        import sqlite_vec
    except ImportError as exc:  # pragma: no cover - it is a dependency
        return None, f"sqlite-vec is not installed ({exc})"
    try:
        conn.enable_load_extension(True)
        try:
            sqlite_vec.load(conn)
        finally:
            conn.enable_load_extension(False)
        return conn.execute("select vec_version()").fetchone()[0], None
    except Exception as exc:  # the driver raises its own OperationalError class
        return None, f"sqlite-vec did not load: {exc}"


def capabilities() -> Capabilities:
    """Probe the driver once per process (in memory, so no file is touched)."""
    global _caps
    with _caps_lock:
        if _caps is None:
            conn = sqlite.connect(":memory:")
            try:
                try:
                    conn.execute("create virtual table t using fts5(x)")
                    fts5 = True
                except Exception:
                    fts5 = False
                vec_version, vec_error = _load_vec(conn)
                _caps = Capabilities(
                    driver=DRIVER_NAME,
                    sqlite_version=conn.execute("select sqlite_version()").fetchone()[0],
                    fts5=fts5,
                    vec=vec_version is not None,
                    vec_version=vec_version,
                    vec_error=vec_error,
                )
            finally:
                conn.close()
        return _caps


def _set_wal(conn: Any) -> None:
    """Switch to WAL. On a fresh file, two openers racing for the switch can get SQLITE_BUSY
    without the busy handler being called, so retry here for up to the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    delay = 0.005
    while True:
        try:
            conn.execute("pragma journal_mode = wal")
            return
        except sqlite.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.1)


def connect(path: str | Path, *, readonly: bool = False) -> Any:
    """Open `path` in autocommit mode with WAL, a busy timeout, foreign keys and sqlite-vec.

    Transactions are explicit (`BEGIN IMMEDIATE` for writes, see `Store.write`), so that a
    writer takes the lock up front instead of failing half-way on an upgrade.
    """
    if readonly:
        conn = sqlite.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None,
                              check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
    else:
        conn = sqlite.connect(str(path), isolation_level=None, check_same_thread=False,
                              timeout=BUSY_TIMEOUT_MS / 1000)
    conn.row_factory = sqlite.Row
    conn.execute(f"pragma busy_timeout = {BUSY_TIMEOUT_MS}")
    if not readonly:
        _set_wal(conn)
        conn.execute("pragma synchronous = normal")
    conn.execute("pragma foreign_keys = on")
    conn.execute(f"pragma cache_size = -{CACHE_KIB}")
    conn.execute("pragma temp_store = memory")
    if capabilities().vec:
        _load_vec(conn)
    return conn
