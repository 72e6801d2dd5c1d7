"""End-to-end speed of the pre-commit hook: start-up, cold, warm (cache) and one-line-edit runs.

Generates a seeded chat dataset (train + eval) in a temporary data repo with an auditor.toml, and runs
the real `auditor` command as a subprocess, the way pre-commit does. Targets: `auditor --help` < 0.3 s;
warm re-run on an unchanged 100,000-row dataset < 0.5 s; after editing one line < 20% of the cold run;
cold hook run on a 1,000-row dataset < 1.5 s.

    flock /tmp/auditor-bench.lock python benchmarks/bench_hook.py [--rows 100000] [--small 1000]
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = ("order refund invoice account password shipping delivery package billing charge card payment "
         "subscription plan upgrade cancel renew address email phone support ticket issue error login "
         "reset update change missing late damaged wrong item price discount coupon receipt tracking "
         "number warranty return exchange store online app mobile browser network slow crash").split()


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize()


def record(rng: random.Random, i: int) -> str:
    return json.dumps({"messages": [
        {"role": "system", "content": "You are a helpful support triage assistant."},
        {"role": "user", "content": f"Ticket {i}: {sentence(rng, rng.randint(20, 60))}?"},
        {"role": "assistant", "content": json.dumps({"category": rng.choice(WORDS), "priority": rng.randint(1, 4),
                                                     "summary": sentence(rng, rng.randint(8, 20))})},
    ]})


def write_dataset(folder: Path, rows: int, seed: int) -> None:
    rng = random.Random(seed)
    (folder / "data").mkdir(parents=True, exist_ok=True)
    with open(folder / "data" / "train.jsonl", "w") as handle:
        handle.writelines(record(rng, i) + "\n" for i in range(rows))
    with open(folder / "data" / "eval.jsonl", "w") as handle:
        handle.writelines(record(rng, rows + i) + "\n" for i in range(max(rows // 50, 60)))
    (folder / "auditor.toml").write_text('[[datasets]]\nname = "support"\ntrain = "data/train.jsonl"\n'
                                         'eval = "data/eval.jsonl"\n')


def auditor_command() -> list[str]:
    script = Path(sys.executable).with_name("auditor")
    return [str(script)] if script.exists() else [sys.executable, "-m", "auditor"]


def timed(args: list[str], cwd: Path, repeat: int = 1) -> tuple[float, subprocess.CompletedProcess]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
        times.append(time.perf_counter() - start)
        if proc.returncode not in (0, 1):
            sys.exit(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return statistics.median(times), proc


def edit_one_line(path: Path, line: int) -> None:
    lines = path.read_text().splitlines(keepends=True)
    data = json.loads(lines[line - 1])
    data["messages"][1]["content"] += " (edited)"
    lines[line - 1] = json.dumps(data) + "\n"
    path.write_text("".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the large dataset")
    parser.add_argument("--small", type=int, default=1_000, help="rows of the small dataset")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="runs per warm/start-up measurement (median)")
    parser.add_argument("--keep", action="store_true", help="keep the generated data repos")
    parser.add_argument("--ignore", default="", help="checks to skip, passed to `auditor audit --ignore`")
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _child import compile_bytecode

    compile_bytecode()
    auditor = auditor_command()
    root = Path(tempfile.mkdtemp(prefix="bench-hook-"))
    checks = subprocess.run([*auditor, "checks"], capture_output=True, text=True).stdout.split("\n")
    print(f"checks installed: {', '.join(line.split()[0] for line in checks if line.strip())}")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")

    help_time, _ = timed([*auditor, "--help"], root, repeat=max(args.repeat, 5))
    print(f"auditor --help:                         {help_time:6.3f} s   (target < 0.3 s)")

    small = root / "small"
    write_dataset(small, args.small, args.seed)
    hook = [*auditor, "audit", "--hook", "data/train.jsonl", "data/eval.jsonl"]
    if args.ignore:
        hook += ["--ignore", args.ignore]
        print(f"ignored: {args.ignore}")
    small_cold, _ = timed([*hook, "--no-cache"], small, repeat=args.repeat)
    print(f"cold hook run, {args.small:,} rows:              {small_cold:6.3f} s   (target < 1.5 s)")

    large = root / "large"
    write_dataset(large, args.rows, args.seed)
    # the median of `repeat` cold runs: the ratio's denominator varies 10-20% from run to run on a shared machine
    cold_nocache, _ = timed([*hook, "--no-cache"], large, repeat=args.repeat)
    cold, proc = timed(hook, large)  # cold cache: fills it
    warm, warm_proc = timed(hook, large, repeat=args.repeat)
    if warm_proc.stdout != proc.stdout:
        print("WARNING: the warm run printed something else than the cold run:")
        print("".join(difflib.unified_diff(proc.stdout.splitlines(True), warm_proc.stdout.splitlines(True))))
    print(f"cold run, {args.rows:,} rows, --no-cache:     {cold_nocache:6.3f} s   (median of {args.repeat})")
    print(f"cold run, {args.rows:,} rows, filling cache:  {cold:6.3f} s")
    print(f"warm run, unchanged:                    {warm:6.3f} s   (target < 0.5 s)")
    edits = []
    for n in range(args.repeat):
        edit_one_line(large / "data" / "train.jsonl", 1000 + n)
        edits.append(timed(hook, large)[0])
    edited = statistics.median(edits)
    print(f"one line edited, re-run:                {edited:6.3f} s   = {edited / cold_nocache:.0%} of cold "
          f"(target < 20%; median of {args.repeat}: {', '.join(f'{t:.3f}' for t in edits)})")
    print(f"cache size: {sum(f.stat().st_size for f in (large / '.auditor_cache').rglob('*') if f.is_file()) / 1e6:.1f} MB")
    print(f"last output line: {proc.stdout.splitlines()[1] if len(proc.stdout.splitlines()) > 1 else proc.stdout}")
    if args.keep:
        print(f"data kept in {root}")
    else:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
