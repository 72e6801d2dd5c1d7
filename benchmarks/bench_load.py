"""Loading + normalizing N chat records (about 1.5 KB each): wall time and peak memory.

Targets (issue 3): 100,000 records (~150 MB) under 3 s and 1 GiB; 1,000,000 under 30 s and 3 GiB.
Each measurement runs in a fresh subprocess so the peak RSS belongs to that run alone.

    python benchmarks/bench_load.py --rows 100000
    python benchmarks/bench_load.py --rows 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time

WORDS = ("order invoice refund account login password shipping parcel delayed charged twice card error "
         "update app crash subscription cancel plan upgrade billing address email support ticket customer "
         "please help urgent week month payment failed screen button settings export data privacy delete "
         "slow loading timeout server mobile desktop browser version issue problem again still waiting").split()
SYSTEM = ("You are a customer support triage assistant. Read the ticket and reply with only a compact JSON "
          "object giving category, priority, sentiment, needs_human, a one-line summary and up to five tags.")


def generate(path: str, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(rows):
            ticket = " ".join(rng.choice(WORDS) for _ in range(rng.randint(120, 180)))
            answer = {"category": rng.choice(["billing", "shipping", "bug_report"]), "priority": "high",
                      "sentiment": "negative", "needs_human": bool(i % 2),
                      "summary": " ".join(rng.choice(WORDS) for _ in range(12)), "tags": ["a", "b"]}
            record = {"messages": [{"role": "system", "content": SYSTEM},
                                   {"role": "user", "content": f"Ticket {i}: {ticket}"},
                                   {"role": "assistant", "content": json.dumps(answer)}]}
            handle.write(json.dumps(record) + "\n")


MEASURE = """
import resource, sys, time
started = time.perf_counter()
from auditor.input.dataset import load_dataset
data = load_dataset(sys.argv[1], "train")
elapsed = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{data.lines} {int(data.frame['valid'].sum())} {elapsed:.2f} {peak:.0f}")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep", help="write the data here and keep it")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="bench-load-")
    path = args.keep or os.path.join(folder, "train.jsonl")
    if not os.path.exists(path):
        started = time.perf_counter()
        generate(path, args.rows)
        print(f"generated {args.rows:,} rows, {os.path.getsize(path) / 1e6:.0f} MB in {time.perf_counter() - started:.1f} s")
    out = subprocess.run([sys.executable, "-c", MEASURE, path], capture_output=True, text=True, check=True).stdout
    lines, valid, seconds, peak_mb = out.split()
    print(f"rows={int(lines):,} valid={int(valid):,} load+normalize={seconds} s peak_rss={peak_mb} MB")


if __name__ == "__main__":
    main()
