# SPDX-License-Identifier: Apache-2.0
"""`claude-mem install` / `uninstall`: our hooks in Claude Code's settings, and the MCP server
(`claude-mem mcp`).

Merges into `~/.claude/settings.json` (or a project's `.claude/settings.json`), leaves every other
hook alone, is idempotent, keeps a backup of a file it changes, and says what it changed. The MCP
server is registered in `~/.claude.json` (or the project's `.mcp.json`).
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

# Claude Code hook name -> (our event, matcher or None, timeout in seconds)
HOOKS: dict[str, tuple[str, str | None, int]] = {
    "SessionStart": ("session-start", "startup|resume|clear|compact", 10),
    "UserPromptSubmit": ("user-prompt-submit", None, 10),
    "PostToolUse": ("post-tool-use", "*", 10),
    "PostToolUseFailure": ("post-tool-use-failure", "*", 10),
    "Stop": ("stop", None, 10),
    "SubagentStop": ("subagent-stop", None, 10),
    "PreCompact": ("pre-compact", None, 10),
    "SessionEnd": ("session-end", None, 5),
}
MCP_NAME = "claude-mem"


def executable() -> str:
    """The `claude-mem` command to put in settings: the script beside this Python, else PATH."""
    beside = Path(sys.executable).parent / "claude-mem"
    if beside.exists():
        return str(beside)
    return shutil.which("claude-mem") or "claude-mem"


def _ours(entry: dict[str, Any]) -> bool:
    return any(isinstance(h, dict) and " hook " in f" {h.get('command', '')} " and
               Path(str(h.get("command", "")).split(" ")[0]).name == "claude-mem"
               for h in entry.get("hooks", []))


def _load(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    text = path.read_text("utf-8")
    if not text.strip():
        return {}
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path} does not hold a JSON object")
    return data


def merge_hooks(settings: dict[str, Any], exe: str) -> list[str]:
    """Add or update our hooks in `settings` in place; returns what changed."""
    changes = []
    hooks = settings.setdefault("hooks", {})
    for name, (event, matcher, timeout) in HOOKS.items():
        entries = hooks.setdefault(name, [])
        wanted: dict[str, Any] = {"hooks": [{"type": "command", "command": f"{exe} hook {event}", "timeout": timeout}]}
        if matcher is not None:
            wanted = {"matcher": matcher, **wanted}
        ours = [e for e in entries if isinstance(e, dict) and _ours(e)]
        if ours == [wanted]:
            continue
        hooks[name] = [e for e in entries if not (isinstance(e, dict) and _ours(e))] + [wanted]
        changes.append(f"{'updated' if ours else 'added'} the {name} hook")
    return changes


def remove_hooks(settings: dict[str, Any]) -> list[str]:
    changes = []
    hooks = settings.get("hooks", {})
    for name in list(hooks):
        entries = hooks[name]
        if not isinstance(entries, list):
            continue
        kept = [e for e in entries if not (isinstance(e, dict) and _ours(e))]
        if len(kept) != len(entries):
            changes.append(f"removed the {name} hook")
            if kept:
                hooks[name] = kept
            else:
                del hooks[name]
    if "hooks" in settings and not settings["hooks"]:
        del settings["hooks"]
    return changes


def _write(path: Path, data: dict[str, Any], dry_run: bool) -> str | None:
    if dry_run:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    backup = None
    if path.exists():
        backup = path.with_name(f"{path.name}.bak-{time.strftime('%Y%m%d-%H%M%S')}")
        shutil.copy2(path, backup)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", "utf-8")
    tmp.replace(path)
    return str(backup) if backup else None


def paths(project: Path | None, home: Path) -> tuple[Path, Path]:
    if project is not None:
        return project / ".claude" / "settings.json", project / ".mcp.json"
    return home / ".claude" / "settings.json", home / ".claude.json"


def install(*, project: Path | None, home: Path, dry_run: bool, uninstall: bool = False,
            exe: str | None = None) -> list[str]:
    """Install (or uninstall) and return the lines that say what changed."""
    exe = exe or executable()
    settings_path, mcp_path = paths(project, home)
    report = []
    settings = _load(settings_path)
    changes = remove_hooks(settings) if uninstall else merge_hooks(settings, exe)
    if changes:
        backup = _write(settings_path, settings, dry_run)
        report += [f"{settings_path}: {c}" for c in changes]
        if backup:
            report.append(f"{settings_path}: backup in {backup}")
    mcp = _load(mcp_path)
    servers = mcp.setdefault("mcpServers", {})
    wanted = {"type": "stdio", "command": exe, "args": ["mcp"]}
    if uninstall:
        if MCP_NAME in servers:
            del servers[MCP_NAME]
            _write(mcp_path, mcp, dry_run)
            report.append(f"{mcp_path}: removed the {MCP_NAME} MCP server")
    elif servers.get(MCP_NAME) != wanted:
        verb = "updated" if MCP_NAME in servers else "registered"
        servers[MCP_NAME] = wanted
        backup = _write(mcp_path, mcp, dry_run)
        report.append(f"{mcp_path}: {verb} the {MCP_NAME} MCP server")
        if backup:
            report.append(f"{mcp_path}: backup in {backup}")
    if not report:
        report.append("nothing to change: already " + ("uninstalled" if uninstall else "installed"))
    if dry_run:
        report = [f"(dry run) {line}" for line in report]
    return report
