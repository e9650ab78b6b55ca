# SPDX-License-Identifier: Apache-2.0
"""Import rates: the upstream database (memories/s) on a synthetic 100k-observation database, and
Claude Code transcripts (events/s: ingest alone, then ingest plus distillation), in-process on a
fresh data directory with the default embedder.

    python bench/imports.py [--observations 100000] [--transcript-events 20000]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from results import write_section
from test_import import UPSTREAM_SCHEMA, transcript_lines

from claude_mem.handlers import contracts as c
from claude_mem.handlers import imports
from claude_mem.handlers.context import Principal
from claude_mem.runtime.services import Services
from claude_mem.runtime.settings import load

WORDS = ("auth token refresh session cache index query migration schema route handler fixture retry queue "
         "worker lock deploy config parser render template component hook build lint error latency").split()


def synthetic_upstream(path: Path, n: int) -> None:
    rng = random.Random(5)
    db = sqlite3.connect(path)
    db.executescript(UPSTREAM_SCHEMA)
    sessions = max(1, n // 50)
    db.executemany("insert into sdk_sessions (id, content_session_id, memory_session_id, project, started_at_epoch,"
                   " status) values (?, ?, ?, ?, ?, 'completed')",
                   [(i, f"cs-{i}", f"ms-{i}", f"project-{i % 20}", 1_700_000_000_000 + i) for i in range(sessions)])
    rows = []
    for i in range(n):
        w = rng.sample(WORDS, 10)
        rows.append((i, f"ms-{i % sessions}", f"project-{(i % sessions) % 20}", rng.choice(["change", "discovery"]),
                     f"{w[0].title()} {w[1]} in src/{w[2]}.py", " ".join(w[3:6]), json.dumps([" ".join(w[6:9])]),
                     json.dumps(["how-it-works"]), json.dumps([f"src/{w[3]}.py"]), json.dumps([f"src/{w[2]}.py"]),
                     " ".join(w) + f" (#{i}).", 1_700_000_000_000 + i * 1000))
    db.executemany("insert into observations (id, memory_session_id, project, type, title, subtitle, facts, concepts,"
                   " files_read, files_modified, narrative, created_at_epoch) values (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    db.commit()
    db.close()


def transcripts(path: Path, events: int) -> int:
    """Sessions of the test fixture's shape (4 tool or prompt events each, plus the session end)."""
    per = 5
    with path.open("w") as f:
        for s in range(max(1, events // per)):
            for line in transcript_lines(f"sess-{s}", f"/work/repo-{s % 10}"):
                item = json.loads(line)
                for key in ("uuid", "parentUuid"):
                    if item.get(key):
                        item[key] = f"{item[key]}-{s}"
                for block in (item.get("message") or {}).get("content") or []:
                    if isinstance(block, dict):
                        for key in ("id", "tool_use_id"):
                            if key in block:
                                block[key] = f"{block[key]}-{s}"
                f.write(json.dumps(item) + "\n")
    return max(1, events // per) * per


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--observations", type=int, default=100_000)
    ap.add_argument("--transcript-events", type=int, default=20_000)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="claude-mem-import-bench-"))
    try:
        src = tmp / "claude-mem.db"
        synthetic_upstream(src, args.observations)
        services = Services(load({"CLAUDE_MEM_DATA_DIR": str(tmp / "a")}), queue=None)
        ctx = services.context(Principal.local())
        t = time.perf_counter()
        with src.open("rb") as f:
            out = imports.import_data(c.ImportIn(format="claude-mem-db", lines=f), ctx)
        up_s = time.perf_counter() - t
        n = out.imported.get("memories", 0)
        services.close()
        print(f"upstream: {n} memories in {up_s:.1f} s = {n / up_s:,.0f}/s", flush=True)

        tfile = tmp / "t.jsonl"
        expected = transcripts(tfile, args.transcript_events)
        services = Services(load({"CLAUDE_MEM_DATA_DIR": str(tmp / "b")}), queue="inline")
        ctx = services.context(Principal.local())
        t = time.perf_counter()
        with tfile.open("rb") as f:
            out = imports.import_data(c.ImportIn(format="transcripts", lines=f), ctx)
        ingest_s = time.perf_counter() - t
        services.queue.run()
        total_s = time.perf_counter() - t
        ev = out.imported.get("events", 0)
        assert ev == expected, (ev, expected)
        services.close()
        print(f"transcripts: {ev} events ingested in {ingest_s:.1f} s = {ev / ingest_s:,.0f}/s;"
              f" with distillation {total_s:.1f} s = {ev / total_s:,.0f}/s", flush=True)
        body = ("In-process on a fresh data directory, default embedder (vectors included), one run:\n\n"
                "| import | records | seconds | rate |\n|---|---|---|---|\n"
                f"| upstream claude-mem.db (synthetic observations) | {n:,} memories | {up_s:.1f} |"
                f" {n / up_s:,.0f} memories/s |\n"
                f"| Claude Code transcripts, ingest | {ev:,} events | {ingest_s:.1f} |"
                f" {ev / ingest_s:,.0f} events/s |\n"
                f"| Claude Code transcripts, ingest + distillation | {ev:,} events | {total_s:.1f} |"
                f" {ev / total_s:,.0f} events/s |")
        write_section("Import rates", body)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
