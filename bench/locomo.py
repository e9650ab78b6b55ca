# SPDX-License-Identifier: Apache-2.0
"""LoCoMo retrieval: recall@5 and recall@10 of the evidence turns, through the REST API.

Each conversation's turns are loaded as memories (one project per conversation, the text
`Speaker: text [shares image: caption]`) into a real server process; every question of
categories 1-4 is asked through `POST /v1/search` with limit 10 in each mode. The data is read
from ../shared/data/locomo10.json (never copied into the repository).

    python bench/locomo.py [--data PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from results import write_section

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "locomo10.json"


def post(base: str, path: str, body: dict) -> dict:
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def evidence_ids(raw: list[str], known: set[str]) -> list[str]:
    """Split the malformed ids ("D8:6; D9:17", "D:11:26") and keep those that exist."""
    out = []
    for item in raw:
        for part in re.split(r"[;\s]+", item):
            part = part.strip()
            if not part:
                continue
            if part not in known:
                m = re.match(r"^D:?(\d+):0*(\d+)$", part)
                part = f"D{m.group(1)}:{m.group(2)}" if m else part
            if part in known and part not in out:
                out.append(part)
    return out


def start_server(data: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDE_MEM_")}
    env |= {"CLAUDE_MEM_DATA_DIR": str(data), "CLAUDE_MEM_PORT": str(port), "CLAUDE_MEM_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen([sys.executable, "-m", "claude_mem.cli", "server", "start"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1):
                return proc, base
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not start")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DATA)
    args = ap.parse_args()
    samples = json.loads(args.data.read_text())
    tmp = Path(tempfile.mkdtemp(prefix="claude-mem-locomo-"))
    proc, base = start_server(tmp / "data")
    modes = ("fts", "vector", "hybrid")
    recalls: dict[str, dict[int, list[float]]] = {m: {5: [], 10: []} for m in modes}
    latency: dict[str, list[float]] = {m: [] for m in modes}
    turns_loaded = questions = 0
    try:
        for sample in samples:
            project = f"locomo-{sample['sample_id']}"
            conv = sample["conversation"]
            by_memory: dict[str, str] = {}
            n = 1
            while f"session_{n}" in conv:
                for turn in conv[f"session_{n}"]:
                    text = f"{turn['speaker']}: {turn['text']}"
                    if turn.get("blip_caption"):
                        text += f" [shares image: {turn['blip_caption']}]"
                    mem = post(base, "/v1/memories", {"project": project, "narrative": text,
                                                      "metadata": {"diaId": turn["dia_id"]}})["memory"]
                    by_memory[mem["id"]] = turn["dia_id"]
                    turns_loaded += 1
                n += 1
            known = set(by_memory.values())
            for qa in sample["qa"]:
                if qa.get("category") not in (1, 2, 3, 4):
                    continue
                gold = evidence_ids(qa.get("evidence", []), known)
                if not gold:
                    continue
                questions += 1
                for mode in modes:
                    t = time.perf_counter()
                    hits = post(base, "/v1/search", {"query": qa["question"], "project": project,
                                                     "limit": 10, "mode": mode})["results"]
                    latency[mode].append((time.perf_counter() - t) * 1000)
                    ranked = [by_memory.get(h["id"]) for h in hits]
                    for k in (5, 10):
                        recalls[mode][k].append(sum(1 for g in gold if g in ranked[:k]) / len(gold))
    finally:
        proc.terminate()
        proc.wait(30)
        shutil.rmtree(tmp, ignore_errors=True)
    rows = [f"| {m} | {statistics.mean(recalls[m][5]):.3f} | {statistics.mean(recalls[m][10]):.3f} |"
            f" {statistics.median(latency[m]):.1f} |" for m in modes]
    body = (f"{turns_loaded} turns of the 10 LoCoMo conversations loaded through `POST /v1/memories`; "
            f"{questions} questions\n(categories 1-4, evidence resolvable) asked through `POST /v1/search` "
            "with limit 10, each within its\nconversation's project. The turns carry no session, so each "
            "project's turns form one stream,\nin order: the stream hybrid search reads a hit's "
            "neighbours from. Recall of the evidence turns:\n\n"
            "| mode | recall@5 | recall@10 | median ms per search (HTTP) |\n|---|---|---|---|\n" + "\n".join(rows))
    write_section("LoCoMo retrieval", body)


if __name__ == "__main__":
    main()
