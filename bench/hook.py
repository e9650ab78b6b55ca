# SPDX-License-Identifier: Apache-2.0
"""Hook latency: the wall time of the `claude-mem hook <event>` process, as Claude Code runs it,
with the server up (post-tool-use target: p50 under 60 ms on this machine).

    python bench/hook.py [--runs 60]

It runs the `claude-mem` script installed beside this Python: run it with the Python of a
virtual environment where the package is installed as the README's first command does
(`pip install .`); an editable install adds its import finder to every start.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from results import write_section

SHARED = Path(__file__).resolve().parents[2] / "shared" / "reference" / "claude-code-hooks"
CASES = [("post-tool-use", "post_tool_use.bash"), ("user-prompt-submit", "user_prompt_submit"),
         ("session-start", "session_start.startup"), ("stop", "stop")]


class Server:
    """The real server process on a free loopback port."""

    def __init__(self, data: Path):
        import socket
        import urllib.request
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDE_MEM_")}
        self.env |= {"CLAUDE_MEM_DATA_DIR": str(data), "CLAUDE_MEM_PORT": str(port)}
        self.proc = subprocess.Popen([sys.executable, "-m", "claude_mem.cli", "server", "start"], env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(300):
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("the server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(20)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=60)
    args = ap.parse_args()
    script = Path(sys.executable).parent / "claude-mem"
    if not script.exists():
        sys.exit(f"no claude-mem script beside {sys.executable}; install the package first")
    tmp = Path(tempfile.mkdtemp(prefix="claude-mem-hook-bench-"))
    server = Server(tmp / "data")
    env = server.env | {"CLAUDE_MEM_URL": server.base, "CLAUDE_MEM_HOOK_STATE": str(tmp / "state.json"),
                        "CLAUDE_MEM_PROJECT": "bench"}
    rows = []
    try:
        for event, sample in CASES:
            payload = json.loads((SHARED / f"{sample}.json").read_text())
            times = []
            for i in range(args.runs + 3):
                body = dict(payload, tool_use_id=f"toolu_bench_{event}_{i}")
                t = time.perf_counter()
                r = subprocess.run([str(script), "hook", event], input=json.dumps(body), env=env,
                                   capture_output=True, text=True)
                elapsed = (time.perf_counter() - t) * 1000
                if r.returncode != 0 or r.stderr:
                    raise SystemExit(f"hook {event} failed: {r.stderr}")
                if i >= 3:
                    times.append(elapsed)
            q = statistics.quantiles(times, n=20)
            rows.append(f"| {event} | {statistics.median(times):.1f} | {q[18]:.1f} |")
            print(rows[-1], flush=True)
        off = []
        down = env | {"CLAUDE_MEM_URL": "http://127.0.0.1:9"}
        for _ in range(20):
            t = time.perf_counter()
            subprocess.run([str(script), "hook", "post-tool-use"], input=b"{}", env=down, capture_output=True)
            off.append((time.perf_counter() - t) * 1000)
        baseline = []
        for _ in range(20):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", "pass"], env=env, capture_output=True)
            baseline.append((time.perf_counter() - t) * 1000)
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    body = (f"Process wall time of `{script.name} hook <event>` ({args.runs} runs each, server up on loopback,\n"
            f"{'a virtual environment' if sys.prefix != sys.base_prefix else 'the base interpreter'}), ms:\n\n"
            "| event | p50 | p95 |\n|---|---|---|\n" + "\n".join(rows) +
            f"\n\nFor scale: `python -c pass` p50 {statistics.median(baseline):.1f} ms; post-tool-use with the server"
            f" down p50 {statistics.median(off):.1f} ms (exit 0).")
    write_section("Hook latency", body)


if __name__ == "__main__":
    os.environ.pop("CLAUDE_MEM_URL", None)
    main()
