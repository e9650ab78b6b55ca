# SPDX-License-Identifier: Apache-2.0
"""Which project a directory belongs to (standard library only: the hook path uses it).

`CLAUDE_MEM_PROJECT` wins, then a `.claude-mem-project` file in the directory or a parent, then
the repository: worktrees of one repository share its main checkout's name (the git common
dir), so a feature branch in a worktree is not a new project. Else the directory's name.
"""

from __future__ import annotations

import os
import os.path as osp

OVERRIDE_FILE = ".claude-mem-project"


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip()
    except OSError:
        return ""


def _common_dir(git: str) -> str | None:
    """The common git dir of a checkout's `.git` (a dir, or a worktree's `gitdir:` file)."""
    if osp.isdir(git):
        return git
    text = _read(git)
    if not text.startswith("gitdir:"):
        return None
    gitdir = text.split(":", 1)[1].strip()
    if not osp.isabs(gitdir):
        gitdir = osp.normpath(osp.join(osp.dirname(git), gitdir))
    common = _read(osp.join(gitdir, "commondir"))
    return osp.normpath(osp.join(gitdir, common)) if common else gitdir


def _parents(path: str) -> list[str]:
    out = [path]
    while True:
        parent = osp.dirname(out[-1])
        if parent == out[-1]:
            return out
        out.append(parent)


def project_for(cwd: str | None = None, environ: dict[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    if env.get("CLAUDE_MEM_PROJECT"):
        return env["CLAUDE_MEM_PROJECT"].strip()
    start = osp.realpath(cwd or os.getcwd())
    for d in _parents(start):
        marker = osp.join(d, OVERRIDE_FILE)
        if osp.isfile(marker):
            name = (_read(marker).splitlines() or [""])[0].strip()
            if name:
                return name
        git = osp.join(d, ".git")
        if osp.exists(git):
            common = _common_dir(git)
            if common is None:
                return osp.basename(d)
            root = osp.dirname(common) if osp.basename(common) == ".git" else common
            name = osp.basename(root)
            return (name[:-4] if name.endswith(".git") else name) or osp.basename(d)
    return osp.basename(start) or "default"
