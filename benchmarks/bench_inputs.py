"""The same records as JSONL and as Parquet: audit wall time and peak memory of each.

    python benchmarks/bench_inputs.py --jsonl /tmp/d100k.jsonl [--select exact-duplicates,near-duplicates]

Measured (2-core VM, load 0.6): 100,000 chat records (bench_dedup.py speed --keep), checks
exact-duplicates, near-duplicates, format, count, contradictions, leakage: JSONL 4.52 s, 921 MiB;
Parquet 5.22 s, 929 MiB (the conversion to a JSONL spool costs ~0.7 s per 100k records).
1,000,000 records (bench_dedup.py speed --rows 1000000 --keep), the same checks, load 1.5-1.6:
JSONL 47.28 s, Parquet 55.25 s (+17%), peak 5,822 MiB for both; with polars writing plain frames as
JSON lines itself (readers.write_frame): JSONL 47.03 s, Parquet 52.90 s (+12.5%, load 0.9-2.0),
peak 5,800 MiB for both. With the spool written by a thread while the loader parses it
(readers.BackgroundSpool), load 1.2-1.6: JSONL 51.36 s, Parquet 51.99 s (+1.2%), peak 5,818 MiB for both.

Writes the Parquet copy into a temporary folder, then runs
`auditor audit FILE --no-cache -q [--select ...]` in a fresh process for each, printing wall seconds,
peak RSS and the machine's load. The verdicts and finding counts must agree.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from _child import timed  # beside this script


def run(path: str, select: str | None, report: Path) -> tuple[float, int, dict]:
    auditor = Path(sys.executable).with_name("auditor")
    command = [str(auditor), "audit", path, "--no-cache", "-q", "--report", "json", "--output", str(report)]
    if select:
        command += ["--select", select]
    wall, peak = timed(command)
    return wall, peak, json.loads(report.read_text())


def main() -> None:
    import polars as pl

    parser = argparse.ArgumentParser()
    parser.add_argument("--jsonl", required=True)
    parser.add_argument("--select")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-inputs-"))
    frame = pl.read_ndjson(args.jsonl)
    frame.write_parquet(folder / "data.parquet")
    print(f"{frame.height:,} records; load {os.getloadavg()[0]:.2f}")
    del frame
    for path in (args.jsonl, str(folder / "data.parquet")):
        wall, peak, report = run(path, args.select, folder / "r.json")
        findings = sum(len(r["findings"]) for r in report["results"])
        print(f"{Path(path).suffix:9} {wall:7.2f} s  peak {peak:6,} MiB  {report['verdict']['status']}  "
              f"{findings} findings  load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
