# SPDX-License-Identifier: Apache-2.0
"""Other agents' tool vocabularies, mapped onto Claude Code's, so one set of distiller rules serves
every agent: OpenCode's `edit` with `filePath`, Codex's `shell` with a command list, and so on."""

from __future__ import annotations

from typing import Any

TOOL_NAMES = {
    "bash": "Bash", "shell": "Bash", "exec_command": "Bash", "local_shell": "Bash", "run_shell_command": "Bash",
    "edit": "Edit", "multiedit": "MultiEdit", "apply_patch": "Edit", "patch": "Edit", "replace": "Edit",
    "write": "Write", "write_file": "Write", "create_file": "Write",
    "read": "Read", "read_file": "Read", "view": "Read",
    "grep": "Grep", "search_file_content": "Grep", "glob": "Glob", "list": "LS", "ls": "LS",
    "list_directory": "LS", "webfetch": "WebFetch", "web_fetch": "WebFetch", "websearch": "WebSearch",
    "web_search": "WebSearch", "task": "Task", "todowrite": "TodoWrite", "todoread": "TodoRead",
    "notebookedit": "NotebookEdit",
}

INPUT_KEYS = {
    "filePath": "file_path", "path_to_file": "file_path", "absolute_path": "file_path",
    "oldString": "old_string", "newString": "new_string", "replaceAll": "replace_all",
    "notebookPath": "notebook_path", "cmd": "command",
}


def claude_code_tool(name: str) -> str:
    """Claude Code's name for a tool (`mcp__*` and Claude Code's own names pass through)."""
    if name.startswith("mcp__") or name[:1].isupper():
        return name
    return TOOL_NAMES.get(name.lower(), name)


def claude_code_input(tool_input: dict[str, Any]) -> dict[str, Any]:
    out = {INPUT_KEYS.get(k, k): v for k, v in tool_input.items()}
    command = out.get("command")
    if isinstance(command, list):  # Codex: ["bash", "-lc", "pytest -q"]
        parts = [str(p) for p in command]
        out["command"] = parts[-1] if len(parts) >= 3 and parts[-2] in ("-c", "-lc") else " ".join(parts)
    if "file_path" not in out and isinstance(out.get("path"), str) and out.get("content") is not None:
        out["file_path"] = out["path"]
    return out
