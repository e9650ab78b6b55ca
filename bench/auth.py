# SPDX-License-Identifier: Apache-2.0
"""Auth overhead per request: verifying a PASETO v4.public key and checking its row, with and
without the bounded verification cache (the revocation check runs on every request either way).

    python bench/auth.py [--requests 5000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from results import write_section

from claude_mem.handlers import contracts as c
from claude_mem.handlers import teams
from claude_mem.handlers.context import Principal
from claude_mem.runtime.services import Services
from claude_mem.runtime.settings import load


def measure(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter_ns()
        fn()
        out.append((time.perf_counter_ns() - t) / 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=5000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        services = Services(load({"CLAUDE_MEM_DATA_DIR": tmp}), queue=None)
        ctx = services.context(Principal.local())
        token = teams.create_key(c.KeyCreate(scopes=["memories:read"]), ctx).token
        ring = services.keyring
        ring.principal_for(token)  # warm the row and the page cache
        rows = []
        for label, cached in (("no cache (verify signature every request)", False),
                              ("bounded cache (1,024 tokens)", True)):
            samples = measure(lambda cached=cached: ring.principal_for(token, use_cache=cached), args.requests)
            q = statistics.quantiles(samples, n=100)
            rows.append(f"| {label} | {statistics.median(samples):.1f} | {q[94]:.1f} | {q[98]:.1f} |")
        services.close()
    body = (f"{args.requests} calls of `Keyring.principal_for` (signature and expiry, then the key's row:\n"
            "revocation and expiry checked on every call).\n\n"
            "| verification | median µs | p95 µs | p99 µs |\n|---|---|---|---|\n" + "\n".join(rows))
    write_section("Auth overhead per request", body)


if __name__ == "__main__":
    main()
