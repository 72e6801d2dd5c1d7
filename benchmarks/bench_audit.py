"""The whole audit as a user runs it: every check (language aside, or with it), cold, as a ratio to the
orjson parse of the same file and in seconds, with the peak memory and the machine's load.

    python benchmarks/bench_audit.py --train 100000 --eval 5000            # every check but language
    python benchmarks/bench_audit.py --train 100000 --eval 5000 --language
    python benchmarks/bench_audit.py --train 1000 --eval 0 --small          # the cold start, vs --help

Data: bench_leakage.py's seeded chat rows (a 30,000-word vocabulary, 40-90 user words, 20-40 answer
words, 1% of eval planted as leaks). Each audit runs `auditor audit TRAIN --eval EVAL --no-cache -q` in
a fresh process; the parse bound is orjson.loads over every line of the train file, in this process.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _child import compile_bytecode, timed  # noqa: E402
from bench_leakage import generate  # noqa: E402


def parse_seconds(path: str) -> float:
    import orjson

    start = time.perf_counter()
    with open(path, "rb") as handle:
        for line in handle:
            orjson.loads(line)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=100_000)
    parser.add_argument("--eval", type=int, default=5_000)
    parser.add_argument("--language", action="store_true", help="run the language check too")
    parser.add_argument("--small", action="store_true", help="also time `auditor --help` (the cold-start bound)")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    compile_bytecode()
    auditor = str(Path(sys.executable).with_name("auditor"))
    with tempfile.TemporaryDirectory(prefix="bench_audit_") as folder:
        generate(folder, args.train, max(args.eval, 1), seed=1)
        train, evals = os.path.join(folder, "train.jsonl"), os.path.join(folder, "eval.jsonl")
        command = [auditor, "audit", train, "--no-cache", "-q"] + (["--eval", evals] if args.eval else [])
        if not args.language:
            command += ["--ignore", "language"]
        parse = min(parse_seconds(train) for _ in range(3))
        print(f"{args.train:,} train + {args.eval:,} eval rows, {'with' if args.language else 'without'} language; "
              f"orjson parse of train: {parse:.3f} s; load {os.getloadavg()[0]:.2f}")
        if args.small:
            help_wall = min(timed([auditor, "--help"])[0] for _ in range(5))
            print(f"  auditor --help: {help_wall:.3f} s")
        for _ in range(args.repeat):
            wall, peak = timed(command)
            extra = f", {wall - help_wall:.2f} s above --help" if args.small else ""
            print(f"  audit --no-cache: {wall:.2f} s = {wall / parse:.1f}x the parse{extra}, peak {peak:,} MiB; "
                  f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
