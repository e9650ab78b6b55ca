# SPDX-License-Identifier: Apache-2.0
"""The `claude-mem` entry point: `hook` goes straight to the standard-library fast path; every
other command loads the full command line."""

from __future__ import annotations

import sys


def main() -> None:
    argv = sys.argv[1:]
    if argv[:1] == ["hook"]:
        from .hook import main as hook_main
        sys.exit(hook_main(argv[1:]))
    from .app import main as app_main
    app_main()
