# SPDX-License-Identifier: Apache-2.0
"""`POST /v1/import` and `claude-mem import ...`: one handler for every format, streaming.

Formats written straight to the store (our JSONL, the upstream database, mcp-memory, Markdown) run
in one transaction, so `dryRun` rolls it back and reports what would have been imported.
Transcripts go through the ingest path, event batch by event batch, like live hooks.
"""

from __future__ import annotations

import sqlite3

from . import contracts as c
from . import transfer
from .audit import record
from .context import Context
from .errors import Invalid
from .import_common import Projects, Report, parse_project_map
from .import_notes import import_markdown, import_mcp_memory
from .import_transcripts import import_transcripts
from .import_upstream import import_upstream_db

WRITERS = {"claude-mem-db": import_upstream_db, "mcp-memory": import_mcp_memory, "markdown": import_markdown}


def import_data(req: c.ImportIn, ctx: Context) -> c.ImportOut:
    if req.format == "jsonl":
        return transfer.import_lines(req, ctx)
    report = Report(format=req.format, dry_run=req.dry_run)
    mapping = parse_project_map(req.project_map)
    source = req.lines if req.lines is not None else []
    if req.format == "transcripts":
        import_transcripts(source, ctx, report, req.project, req.since_epoch)
    else:
        with ctx.store.write() as db:
            db.execute("savepoint import_all")
            try:
                WRITERS[req.format](source, ctx, Projects(ctx, mapping, req.project), report, db)
            except sqlite3.DatabaseError as exc:
                db.execute("rollback to import_all")
                raise Invalid("$.body", f"not a readable SQLite database: {exc}") from None
            except BaseException:
                db.execute("rollback to import_all")
                raise
            finally:
                if req.dry_run:
                    db.execute("rollback to import_all")
                db.execute("release import_all")
            if not req.dry_run:
                record(ctx, db, "memory.imported", count=sum(report.imported.values()),
                       detail={"format": req.format, **report.imported})
    return report.out()
