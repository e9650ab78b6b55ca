# SPDX-License-Identifier: Apache-2.0
"""`python -m claude_mem.cli`: the same as the `claude-mem` command."""

from claude_mem.cli.main import main

if __name__ == "__main__":
    main()
