"""`auditor clean` and `auditor split` against the audit itself: wall time and peak memory of each.

    python benchmarks/bench_clean_split.py --jsonl /tmp/d100k.jsonl [--select exact-duplicates,near-duplicates,...]

Runs, each in a fresh process with its own cache folder: the audit cold, clean cold (it audits too),
clean after a cached audit (the audit reused), and split (its own grouping audit plus the leak check
of the draw). Prints wall seconds, peak RSS and the machine's load.

Measured (2-core VM, load 0.65 before, 1.10 after): 100,000 chat records (bench_dedup.py speed --keep),
checks exact-duplicates, near-duplicates, format, count, contradictions:
audit 4.99 s / 967 MiB; clean after the cached audit 0.48 s / 53 MiB; clean cold 4.87 s / 946 MiB
(0.98x the audit); split --eval-size 0.1: 7.81 s / 895 MiB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from _child import timed  # beside this script


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jsonl", required=True)
    parser.add_argument("--select", default="exact-duplicates,near-duplicates,format,count,contradictions")
    parser.add_argument("--eval-size", default="0.1")
    args = parser.parse_args()
    auditor = str(Path(sys.executable).with_name("auditor"))
    work = Path(tempfile.mkdtemp(prefix="bench-clean-"))
    try:
        select = ["--select", args.select]
        cold_cache = ["--cache-dir", str(work / "c1")]
        rows = [
            ("audit (cold)", [auditor, "audit", args.jsonl, "-q", *select, *cold_cache]),
            ("clean (audit cached)", [auditor, "clean", args.jsonl, "-q", *select, *cold_cache,
                                      "--output-dir", str(work / "clean-warm")]),
            ("clean (cold)", [auditor, "clean", args.jsonl, "-q", *select, "--no-cache",
                              "--output-dir", str(work / "clean-cold")]),
            ("split (cold)", [auditor, "split", args.jsonl, "--eval-size", args.eval_size, "-q", "--no-cache",
                              "--output-dir", str(work / "split")]),
        ]
        print(f"load before: {os.getloadavg()[0]:.2f}")
        for name, command in rows:
            wall, peak = timed(command)
            print(f"{name:<22} {wall:7.2f} s  {peak:6,} MiB")
        print(f"load after: {os.getloadavg()[0]:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
