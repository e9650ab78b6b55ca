# SPDX-License-Identifier: Apache-2.0
"""The `claude-mem` command line. Server commands manage the process; `search`, `add`, `context`
and `forget` build a handler's input Struct and call it through the manifest (over HTTP when
`CLAUDE_MEM_URL` is set, else in-process). Heavy imports stay inside the commands."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Annotated, Any, Literal

from cyclopts import App, Parameter

app = App(name="claude-mem", help="claude-mem server: memory for AI coding agents.",
          version_flags=["--version"])
server = App(name="server", help="Run and manage the server.")
worker = App(name="worker", help="Aliases of the `server` process commands.")
app.command(server)
app.command(worker)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("claude-mem-server")
    except PackageNotFoundError:  # pragma: no cover
        return "0.0.0"


app.version = _version


def _err(message: str) -> None:
    print(f"claude-mem: {message}", file=sys.stderr)


def _settings(**overrides: Any) -> Any:
    from claude_mem.runtime.settings import load
    return load(**{k: v for k, v in overrides.items() if v is not None})


def _guard(fn: Any) -> Any:
    """Turn a caller's mistake into a message and exit code 2, an unreachable server into 1."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> int:
        from claude_mem.handlers.errors import HandlerError
        from claude_mem.runtime.settings import SettingsError

        from .invoke import Unreachable
        try:
            return fn(*args, **kwargs) or 0
        except (SettingsError, HandlerError) as exc:
            _err(getattr(exc, "message", str(exc)))
            return 2
        except Unreachable as exc:
            _err(str(exc))
            return 1
        except RuntimeError as exc:
            _err(str(exc))
            return 1

    return wrapper


def _print_json(value: Any) -> None:
    import msgspec
    print(msgspec.json.encode(value).decode())


# -- server process ----------------------------------------------------------------------------

@_guard
def start(*, daemon: bool = False, host: str | None = None, port: int | None = None,
          data_dir: str | None = None) -> int:
    """Start the server (in the foreground unless --daemon).

    Parameters
    ----------
    daemon
        Detach, with a pid file and a log file in the data dir.
    host
        Address to bind (CLAUDE_MEM_HOST).
    port
        Port to bind (CLAUDE_MEM_PORT).
    data_dir
        Data directory (CLAUDE_MEM_DATA_DIR).
    """
    from claude_mem.runtime import process
    settings = _settings(host=host, port=port, data_dir=data_dir)
    if daemon:
        info = process.start_daemon(settings, dict(os.environ))
        print(f"claude-mem server started: pid {info.pid}, {process.server_url(info)}, "
              f"logs {settings.log_path}")
        return 0
    process.serve(settings)
    return 0


@_guard
def stop(*, data_dir: str | None = None) -> int:
    """Stop the running server."""
    from claude_mem.runtime import process
    settings = _settings(data_dir=data_dir)
    info = process.stop(settings)
    print(f"claude-mem server stopped (pid {info.pid})" if info else "claude-mem server is not running")
    return 0


@_guard
def restart(*, host: str | None = None, port: int | None = None, data_dir: str | None = None) -> int:
    """Stop the server if it runs, then start it detached."""
    from claude_mem.runtime import process
    settings = _settings(host=host, port=port, data_dir=data_dir)
    process.stop(settings)
    info = process.start_daemon(settings, dict(os.environ))
    print(f"claude-mem server restarted: pid {info.pid}, {process.server_url(info)}")
    return 0


@_guard
def status(*, json_: Annotated[bool, Parameter(name="--json")] = False, data_dir: str | None = None) -> int:
    """Whether the server runs, and its queue figures. Exit 1 when it does not run."""
    from claude_mem.runtime import process
    settings = _settings(data_dir=data_dir)
    info = process.running(settings)
    out: dict[str, Any] = {"running": info is not None, "dataDir": str(settings.data_path)}
    if info is not None:
        out |= {"pid": info.pid, "url": process.server_url(info), "startedAtEpoch": info.started_at}
        try:
            import urllib.request
            with urllib.request.urlopen(process.server_url(info) + "/readyz", timeout=3) as r:
                ready = json.loads(r.read())
        except Exception as exc:
            ready = {"status": "unreachable", "detail": str(exc)}
        out["ready"] = ready
    if json_:
        _print_json(out)
    elif info is None:
        print(f"claude-mem server is not running (data dir {settings.data_path})")
    else:
        q = out["ready"].get("queue", {})
        print(f"claude-mem server running: pid {info.pid}, {out['url']}, status {out['ready'].get('status')}")
        if q:
            print(f"queue {q.get('engine')}: {q.get('pending_events', 0)} pending events in "
                  f"{q.get('sessions_waiting', 0)} sessions, {q.get('failed_events', 0)} failed")
    return 0 if info is not None else 1


@_guard
def logs(*, follow: bool = False, lines: int = 50, data_dir: str | None = None) -> int:
    """Print the end of the server log.

    Parameters
    ----------
    follow
        Keep printing new lines (Ctrl+C to stop).
    lines
        How many lines to show.
    """
    from claude_mem.runtime import process
    settings = _settings(data_dir=data_dir)
    path = settings.log_path
    if not path.exists():
        _err(f"no log yet at {path}")
        return 1
    text = process.tail(path, lines)
    if text:
        print(text)
    if follow:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            try:
                while True:
                    chunk = f.read()
                    if chunk:
                        sys.stdout.write(chunk.decode("utf-8", "replace"))
                        sys.stdout.flush()
                    else:
                        time.sleep(0.3)
            except KeyboardInterrupt:
                return 0
    return 0


@_guard
def migrate(*, data_dir: str | None = None) -> int:
    """Bring the database schema up to date (idempotent)."""
    from claude_mem.storage.store import Store
    settings = _settings(data_dir=data_dir)
    store = Store(settings.db_path, migrate=False)
    applied = store.migrate()
    print(f"schema version {store.schema_version()}" + (f" (applied {', '.join(map(str, applied))})"
                                                         if applied else " (already up to date)"))
    store.close()
    return 0


@_guard
def doctor(*, data_dir: str | None = None) -> int:
    """Check this machine and configuration, one line each; exit 1 if anything is wrong."""
    from claude_mem.runtime.doctor import run_checks
    settings = _settings(data_dir=data_dir)
    ok = True
    for check in run_checks(settings):
        print(f"{'ok  ' if check.ok else 'FAIL'} {check.name}: {check.detail}")
        ok = ok and check.ok
    return 0 if ok else 1


JsonFlagEarly = Annotated[bool, Parameter(name="--json")]


def _team_principal(services: Any, team: str | None) -> Any:
    """The operator acting inside one team (the local team when none is named)."""
    from claude_mem.handlers.context import Principal
    from claude_mem.handlers.errors import Invalid
    from claude_mem.storage import teams as teams_repo
    if team is None:
        return Principal.local()
    with services.store.read() as db:
        row = teams_repo.get_by_name(db, team)
    if row is None:
        raise Invalid("$.team", f"no team named {team!r} (claude-mem server team list)")
    return Principal.system(row["id"])


@_guard
def export(*, output: str | None = None, team: str | None = None, project: str | None = None,
           no_events: bool = False, data_dir: str | None = None) -> int:
    """Export memories, sessions and events as JSONL, streaming; safe while the server runs.

    Parameters
    ----------
    output
        The file to write (default: standard output).
    team
        The team to export (default: the local team).
    project
        Only this project.
    no_events
        Leave the raw events out (memories, sessions and projects only).
    """
    from claude_mem.handlers.contracts import ExportIn
    from claude_mem.handlers.transfer import export as export_handler
    from claude_mem.runtime.services import Services

    from .import_command import Progress
    services = Services(_settings(data_dir=data_dir), queue=None)
    out = open(output, "wb") if output else sys.stdout.buffer  # noqa: SIM115
    progress = Progress(0, "exported")
    lines = 0
    try:
        ctx = services.context(_team_principal(services, team))
        for line in export_handler(ExportIn(project=project, include_events=not no_events), ctx):
            out.write(line)
            lines += 1
            if output:
                progress.advance(len(line))
    finally:
        if output:
            out.close()
            progress.close()
        services.close()
    if output:
        print(f"exported {lines - 1} records to {output}", file=sys.stderr)
    return 0


@_guard
def import_(path: str, *, team: str | None = None, dry_run: bool = False, data_dir: str | None = None,
            json_: JsonFlagEarly = False) -> int:
    """Import a JSONL export into the local data directory (ids kept; re-runs add nothing).

    Parameters
    ----------
    path
        The export file.
    team
        The team to import into (default: the local team).
    dry_run
        Report what would be imported; write nothing.
    """
    from pathlib import Path

    import msgspec

    from claude_mem.handlers.contracts import ImportIn
    from claude_mem.handlers.errors import Invalid
    from claude_mem.handlers.imports import import_data
    from claude_mem.runtime.services import Services

    from . import import_command as ic
    f = Path(path).expanduser()
    if not f.is_file():
        raise Invalid("$.path", f"no export file at {f}")
    services = Services(_settings(data_dir=data_dir), queue="inline")
    progress = ic.Progress(f.stat().st_size, "importing")
    try:
        ctx = services.context(_team_principal(services, team))
        req = msgspec.structs.replace(ImportIn(format="jsonl", dry_run=dry_run),
                                      lines=ic.file_chunks([f], progress))
        out = import_data(req, ctx)
        services.queue.run()
    finally:
        progress.close()
        services.close()
    if json_:
        _print_json(out)
    else:
        print("\n".join(ic.summary(out)))
    return 0



for _cmd in (start, stop, restart, status, logs, migrate, doctor, export):
    server.command(_cmd)
server.command(import_, name="import")
for _cmd in (stop, restart, status):
    worker.command(_cmd)

server_worker = App(name="worker", help="Dramatiq worker processes (CLAUDE_MEM_QUEUE_ENGINE=dramatiq).")
server.command(server_worker)


@server_worker.command(name="start")
@_guard
def worker_processes_start(*, processes: int = 1, threads: int = 4, data_dir: str | None = None) -> int:
    """Run Dramatiq workers that drain sessions; they never open an HTTP port. SIGTERM finishes
    the current event and exits.

    Parameters
    ----------
    processes
        Worker processes to run (supervised by this one).
    threads
        Drain threads per process.
    """
    from claude_mem.runtime.worker import run_workers
    if processes < 1 or threads < 1:
        _err("--processes and --threads must be at least 1")
        return 2
    run_workers(_settings(data_dir=data_dir), processes, threads)
    return 0


@worker.command(name="start")
@_guard
def worker_start(*, daemon: bool = False, processes: int = 1, threads: int = 4, host: str | None = None,
                 port: int | None = None, data_dir: str | None = None) -> int:
    """Start the work: Dramatiq worker processes with the dramatiq engine; with the embedded
    sqlite engine the server is the worker, so this starts the server.

    Parameters
    ----------
    daemon
        (sqlite engine) detach the server.
    processes
        (dramatiq engine) worker processes.
    threads
        (dramatiq engine) drain threads per process.
    """
    settings = _settings(host=host, port=port, data_dir=data_dir)
    if settings.queue_engine == "dramatiq":
        return worker_processes_start(processes=processes, threads=threads, data_dir=data_dir)
    return start(daemon=daemon, host=host, port=port, data_dir=data_dir)


# -- teams, projects, keys: the server operator, in-process on the data dir -----------------

team_app = App(name="team", help="Manage teams.")
project_app = App(name="project", help="Manage projects.")
key_app = App(name="api-key", help="Manage API keys (PASETO v4.public).")
signing_app = App(name="signing-key", help="Manage the server's signing key.")
for _sub in (team_app, project_app, key_app, signing_app):
    server.command(_sub)

JsonFlag = Annotated[bool, Parameter(name="--json")]


def _operator_call(name: str, data: dict[str, Any], data_dir: str | None = None) -> Any:
    """Run a handler in-process as the server operator (an admin of the local team)."""
    from claude_mem.handlers.context import Principal
    from claude_mem.handlers.manifest import BY_NAME
    from claude_mem.handlers.validation import convert
    from claude_mem.runtime.services import Services
    route = BY_NAME[name]
    req = convert({k: v for k, v in data.items() if v is not None}, route.request_type)
    services = Services(_settings(data_dir=data_dir), queue=None)
    try:
        return route.handler(req, services.context(Principal.local()))
    finally:
        services.close()


@team_app.command(name="create")
@_guard
def team_create(name: str, *, json_: JsonFlag = False, data_dir: str | None = None) -> int:
    """Create a team."""
    out = _operator_call("create_team", {"name": name}, data_dir)
    _print_json(out) if json_ else print(f"team {out.team.name} created ({out.team.id})")
    return 0


@team_app.command(name="list")
@_guard
def team_list(*, json_: JsonFlag = False, data_dir: str | None = None) -> int:
    """List teams."""
    out = _operator_call("list_teams", {}, data_dir)
    if json_:
        _print_json(out)
    for t in [] if json_ else out.teams:
        print(f"{t.id}  {t.name:<24} {t.project_count} projects, {t.key_count} active keys")
    return 0


@project_app.command(name="create")
@_guard
def project_create(name: str, *, team: str | None = None, json_: JsonFlag = False,
                   data_dir: str | None = None) -> int:
    """Create a project in a team (default: the local team)."""
    out = _operator_call("create_project", {"name": name, "team": team}, data_dir)
    _print_json(out) if json_ else print(f"project {out.project.name} created ({out.project.id})")
    return 0


@project_app.command(name="list")
@_guard
def project_list(*, team: str | None = None, json_: JsonFlag = False, data_dir: str | None = None) -> int:
    """List a team's projects (default: the local team)."""
    out = _operator_call("list_projects", {"team": team}, data_dir)
    if json_:
        _print_json(out)
    for p in [] if json_ else out.projects:
        print(f"{p.id}  {p.name:<24} {p.memory_count} memories, {p.session_count} sessions")
    return 0


@key_app.command(name="create")
@_guard
def key_create(*, team: str, scope: list[str], project: str | None = None, name: str | None = None,
               expires_days: float | None = None, json_: JsonFlag = False, data_dir: str | None = None) -> int:
    """Create an API key; its token is printed once and stored nowhere.

    Parameters
    ----------
    team
        The team the key belongs to.
    scope
        Scopes, comma-separated or repeated: memories:read, memories:write, memories:forget,
        audit:read, admin.
    project
        Pin the key to one project of the team (created if new).
    name
        A label for the key.
    expires_days
        Expire after this many days (default: never; revoke to stop it).
    """
    out = _operator_call("create_key", {"team": team, "project": project, "scopes": _split(scope),
                                        "name": name, "expiresDays": expires_days}, data_dir)
    if json_:
        _print_json(out)
    else:
        print(f"key {out.key.id} for team {out.key.team} ({', '.join(out.key.scopes)})")
        print("The token is shown only now; keep it secret:")
        print(out.token)
    return 0


@key_app.command(name="list")
@_guard
def key_list(*, team: str | None = None, json_: JsonFlag = False, data_dir: str | None = None) -> int:
    """List API keys (never their tokens)."""
    out = _operator_call("list_keys", {"team": team}, data_dir)
    if json_:
        _print_json(out)
    for k in [] if json_ else out.keys:
        state = "revoked" if k.revoked_at_epoch else "active"
        print(f"{k.id}  {k.team:<16} {state:<8} {','.join(k.scopes):<40} {k.name or ''}")
    return 0


@key_app.command(name="revoke")
@_guard
def key_revoke(id: str, *, data_dir: str | None = None) -> int:
    """Revoke an API key: every request with it fails from now on."""
    out = _operator_call("revoke_key", {"id": id}, data_dir)
    print(f"key {out.key.id} revoked")
    return 0


@signing_app.command(name="rotate")
@_guard
def signing_rotate(*, data_dir: str | None = None) -> int:
    """Sign new keys with a fresh key; keys signed earlier keep working until revoked.
    Restart a running server so that it signs with the new key."""
    from claude_mem.runtime.services import Services
    services = Services(_settings(data_dir=data_dir), queue=None)
    try:
        kid = services.keyring.rotate()
    except ValueError as exc:
        _err(str(exc))
        return 2
    finally:
        services.close()
    print(f"new signing key {kid}")
    return 0


# -- commands that wrap handlers ---------------------------------------------------------------

def _call(name: str, req: Any) -> Any:
    from .invoke import invoker
    inv = invoker(_settings)
    try:
        return inv.call(name, req)
    finally:
        if hasattr(inv, "close"):
            inv.close()


@app.command
@_guard
def search(query: str = "", *, project: str | None = None, limit: int = 20,
           mode: Literal["hybrid", "fts", "vector"] = "hybrid", kind: list[str] | None = None,
           file: list[str] | None = None,
           json_: Annotated[bool, Parameter(name="--json")] = False) -> int:
    """Search memories.

    Parameters
    ----------
    query
        Words to look for (empty: the most recent memories).
    project
        Only this project (by name).
    limit
        How many results (1 to 100).
    kind
        Only these kinds (observation, decision, summary, note); repeat or comma-separate.
    file
        Only memories that touched these files.
    """
    from claude_mem.handlers.contracts import SearchIn
    from claude_mem.handlers.validation import convert
    req = convert({"query": query, "project": project, "limit": limit, "mode": mode,
                   "kinds": _split(kind), "files": _split(file)}, SearchIn)
    out = _call("search", req)
    if json_:
        _print_json(out)
        return 0
    if not out.results:
        print("no memories found")
    for hit in out.results:
        print(f"{hit.id}  {hit.type or hit.kind:<10} {hit.title}")
        if hit.snippet:
            print(f"    {hit.snippet[:160]}")
    return 0


@app.command
@_guard
def add(text: str, *, project: str | None = None, title: str = "",
        kind: Literal["note", "decision", "observation"] = "note", type: str | None = None,
        json_: Annotated[bool, Parameter(name="--json")] = False) -> int:
    """Add a memory by hand.

    Parameters
    ----------
    text
        The memory's text (its narrative).
    project
        Project name (default: the current directory's name).
    title
        A short title.
    kind
        note, decision or observation.
    type
        bugfix, feature, refactor, change, discovery, decision, security_alert or security_note.
    """
    from claude_mem.handlers.contracts import MemoryCreate
    from claude_mem.handlers.validation import convert
    req = convert({"project": project or _default_project(), "narrative": text, "title": title,
                   "kind": kind, "type": type}, MemoryCreate)
    out = _call("create_memory", req)
    if json_:
        _print_json(out)
    else:
        print(f"added {out.memory.id}")
    return 0


@app.command
@_guard
def context(*, project: str | None = None, query: str | None = None,
            budget: int | None = None, json_: Annotated[bool, Parameter(name="--json")] = False) -> int:
    """Print the context pack a new session of a project would get.

    Parameters
    ----------
    project
        Project name (default: the current directory's name).
    query
        Put memories relevant to this first.
    budget
        Token budget (default CLAUDE_MEM_CONTEXT_TOKENS).
    """
    from claude_mem.handlers.contracts import ContextIn
    from claude_mem.handlers.validation import convert
    req = convert({"project": project or _default_project(), "query": query, "tokenBudget": budget},
                  ContextIn)
    out = _call("build_context", req)
    if json_:
        _print_json(out)
    else:
        sys.stdout.write(out.context)
    return 0


@app.command
@_guard
def forget(ids: list[str] | None = None, *, project: str | None = None,
           json_: Annotated[bool, Parameter(name="--json")] = False) -> int:
    """Forget memories by id (or every memory of --project).

    Parameters
    ----------
    ids
        Memory ids.
    project
        Forget every memory of this project.
    """
    from claude_mem.handlers.contracts import ForgetIn
    from claude_mem.handlers.validation import convert
    req = convert({"ids": ids, "project": project}, ForgetIn)
    out = _call("forget", req)
    if json_:
        _print_json(out)
    else:
        print(f"forgot {out.count} memor{'y' if out.count == 1 else 'ies'}")
    return 0


@app.command(name="mcp")
@_guard
def mcp_cmd() -> int:
    """Serve the memory tools over MCP on stdin/stdout (for an agent's MCP client).

    Talks to CLAUDE_MEM_URL with CLAUDE_MEM_API_KEY when set, else works on the local data directory.
    """
    from .mcp_command import run
    return run(_settings)


@app.command(name="install")
@_guard
def install_cmd(*, project: bool = False, dry_run: bool = False) -> int:
    """Add claude-mem's hooks to Claude Code's settings and register its MCP server.

    Parameters
    ----------
    project
        Install into this project's .claude/settings.json and .mcp.json instead of your user settings.
    dry_run
        Say what would change, change nothing.
    """
    return _install(project, dry_run, uninstall=False)


@app.command(name="uninstall")
@_guard
def uninstall_cmd(*, project: bool = False, dry_run: bool = False) -> int:
    """Remove claude-mem's hooks and MCP server from Claude Code's settings (others stay).

    Parameters
    ----------
    project
        Uninstall from this project's settings instead of your user settings.
    dry_run
        Say what would change, change nothing.
    """
    return _install(project, dry_run, uninstall=True)


def _install(project: bool, dry_run: bool, uninstall: bool) -> int:
    from pathlib import Path

    from .install import install
    try:
        lines = install(project=Path.cwd() if project else None, home=Path.home(), dry_run=dry_run,
                        uninstall=uninstall)
    except ValueError as exc:  # a settings file that is not JSON: never overwrite it
        _err(f"{exc}; fix or move the file, then run this again")
        return 2
    for line in lines:
        print(line)
    return 0


# -- import --------------------------------------------------------------------------------------

import_app = App(name="import", help="Bring your history: the upstream database, transcripts, notes.")
app.command(import_app)


def _import(fmt: str, body_of: Any, paths: list[Any], label: str, *, project: str | None = None,
            project_map: list[str] | None = None, since: str | None = None, dry_run: bool = False,
            json_: bool = False, content_type: str = "application/x-ndjson") -> int:
    from claude_mem.handlers.contracts import ImportIn
    from claude_mem.handlers.validation import convert

    from . import import_command as ic
    req = convert({"format": fmt, "project": project, "projectMap": _split(project_map) or [],
                   "sinceEpoch": ic.since_epoch(since), "dryRun": dry_run}, ImportIn)
    progress = ic.Progress(ic.total_size(paths), label)
    out = ic.run(_settings, req, body_of(progress), progress, content_type)
    if json_:
        _print_json(out)
    else:
        print("\n".join(ic.summary(out)))
    return 0


def _existing(path: str, what: str) -> Any:
    from pathlib import Path

    from claude_mem.handlers.errors import Invalid
    p = Path(path).expanduser()
    if not p.exists():
        raise Invalid("$.path", f"{what} {p} does not exist")
    return p


@import_app.command(name="claude-mem-db")
@_guard
def import_upstream(path: str, *, project_map: list[str] | None = None, project: str | None = None,
                    dry_run: bool = False, json_: JsonFlag = False) -> int:
    """Import the upstream worker's database (read-only), e.g. ~/.claude-mem/claude-mem.db.

    Parameters
    ----------
    path
        The upstream SQLite file.
    project_map
        Rename projects on the way in: old=new (repeat or comma-separate).
    project
        Put everything into this one project.
    dry_run
        Report what would be imported; write nothing.
    """
    from . import import_command as ic
    db = _existing(path, "database")
    if not db.is_file():
        raise _invalid("$.path", f"{db} is not a file")
    return _import("claude-mem-db", lambda pr: ic.file_chunks([db], pr), [db], "uploading", project=project,
                   project_map=project_map, dry_run=dry_run, json_=json_, content_type="application/vnd.sqlite3")


@import_app.command(name="transcripts")
@_guard
def import_transcripts_cmd(path: str | None = None, *, since: str | None = None, project: str | None = None,
                           dry_run: bool = False, json_: JsonFlag = False) -> int:
    """Replay Claude Code transcripts (default ~/.claude/projects) through the live ingest path.

    Parameters
    ----------
    path
        A transcript folder or one .jsonl file.
    since
        Only lines from this date on (2026-01-31 or an ISO time).
    project
        Put everything into this project (default: each session's folder name).
    dry_run
        Count what would be sent; write nothing.
    """
    from . import import_command as ic
    root = _existing(path, "folder") if path else ic.default_transcripts_dir()
    if not root.exists():
        raise _invalid("$.path", f"no transcripts at {root}")
    files = ic.transcript_files(root, ic.since_epoch(since))
    return _import("transcripts", lambda pr: ic.file_chunks(files, pr), files, "replaying", project=project,
                   since=since, dry_run=dry_run, json_=json_)


@import_app.command(name="mcp-memory")
@_guard
def import_mcp_memory_cmd(path: str, *, project: str | None = None, dry_run: bool = False,
                          json_: JsonFlag = False) -> int:
    """Import the MCP memory server's memory.jsonl (entities, observations, relations).

    Parameters
    ----------
    path
        The memory.jsonl file.
    project
        The project to import into (default: the current directory's project).
    """
    from . import import_command as ic
    f = _existing(path, "file")
    return _import("mcp-memory", lambda pr: ic.file_chunks([f], pr), [f], "importing",
                   project=project or _default_project(), dry_run=dry_run, json_=json_)


@import_app.command(name="markdown")
@_guard
def import_markdown_cmd(path: str, *, project: str | None = None, dry_run: bool = False,
                        json_: JsonFlag = False) -> int:
    """Import a folder of Markdown notes (or one file): one memory per note or long section.

    Parameters
    ----------
    path
        A folder (a basic-memory project, docs) or a file such as CLAUDE.md or AGENTS.md.
    project
        The project to import into (default: the current directory's project).
    """
    from . import import_command as ic
    root = _existing(path, "path")
    files = [root] if root.is_file() else [p for p in root.rglob("*") if p.suffix.lower() in (".md", ".markdown")]
    return _import("markdown", lambda pr: ic.markdown_lines(root, pr), files, "importing",
                   project=project or _default_project(), dry_run=dry_run, json_=json_)


def _invalid(path: str, message: str) -> Exception:
    from claude_mem.handlers.errors import Invalid
    return Invalid(path, message)


def _split(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [v for item in values for v in item.split(",") if v]


def _default_project() -> str:
    from .project import project_for
    return project_for()


def main() -> None:
    rc = app(sys.argv[1:], result_action="return_value")
    sys.exit(rc if isinstance(rc, int) else 0)
