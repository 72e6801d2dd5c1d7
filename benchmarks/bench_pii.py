"""The pii check's cost on top of loading: 100,000 chat rows, some with personal data and many with numbers.

    python benchmarks/bench_pii.py --rows 100000

Writes N seeded chat rows (support-ticket words; every 500th row with an e-mail address and a phone
number, every 7th with an order number, a date and arithmetic: look-alikes the prefilters must pass
over cheaply), then times `auditor audit FILE --no-cache -q` with `--select count` (reading alone)
and `--select pii` in fresh processes, and prints wall seconds, peak RSS, the difference and the
machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
from pathlib import Path

from _child import timed  # beside this script

WORDS = "the order arrived late and my account shows a charge i do not recognise please help me with the refund".split()


def write_rows(path: Path, rows: int) -> None:
    rng = random.Random(3)
    with open(path, "w") as out:
        for i in range(rows):
            user = " ".join(rng.choice(WORDS) for _ in range(rng.randint(10, 60)))
            if i % 500 == 0:
                user += f" mail me at user{i}@gmail.com or call (415) 555-{1000 + i % 9000:04d}"
            if i % 7 == 0:
                user += f" order {rng.randint(10**8, 10**9)} on 2024-0{1 + i % 9}-1{i % 10} total 30000 - 11520"
            answer = " ".join(rng.choice(WORDS) for _ in range(30))
            out.write(json.dumps({"messages": [{"role": "system", "content": "You are a support agent."},
                                               {"role": "user", "content": user},
                                               {"role": "assistant", "content": answer}]}) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    auditor = str(Path(sys.executable).with_name("auditor"))
    with tempfile.TemporaryDirectory(prefix="bench_pii_") as tmp:
        data = Path(tmp) / "chat.jsonl"
        write_rows(data, args.rows)
        print(f"{args.rows:,} chat rows; load {os.getloadavg()[0]:.2f}")
        walls = {}
        for check in ("count", "pii"):
            walls[check], peak = timed([auditor, "audit", str(data), "--select", check, "--no-cache", "-q"])
            print(f"  --select {check:6} {walls[check]:6.2f} s  peak {peak:6,} MiB  load {os.getloadavg()[0]:.2f}")
        print(f"  pii on top of reading: {walls['pii'] - walls['count']:.2f} s")


if __name__ == "__main__":
    main()
