"""The leakage check end to end: wall time and peak memory of `auditor audit` on generated train/eval files.

    flock /tmp/auditor-bench.lock python benchmarks/bench_leakage.py --train 100000 --eval 5000
    flock /tmp/auditor-bench.lock python benchmarks/bench_leakage.py --train 1000000 --eval 10000

Writes TRAIN chat records (a shared 20-word system prompt, a 40-90 word user turn, a 20-40 word answer,
drawn from a 30,000-word vocabulary with a seeded RNG) and EVAL records of which 1% are exact copies of
train rows, 1% lightly edited copies (one word changed) and 1% fresh rows with 20 words pasted from a
train row; then runs `auditor audit train.jsonl --eval eval.jsonl --select leakage --no-cache -q` in a
fresh process (loading included) under `/usr/bin/time -v` when available, and prints the wall time, the
child's peak RSS, the number of leaked rows the report found against the number planted, and the load
average (other engineers share the machine).

Targets: 100,000 x 5,000 under 15 s; 1,000,000 x 10,000 under 2 minutes and 4 GiB.

Measured on the shared 2-core VM (load average ~2.0-2.5 from other engineers' jobs), end to end in a
fresh process, with the working tree's shared MinHash of that moment:
  100,000 x 5,000:     6.1 s wall, peak RSS 748 MiB, 150 of 150 planted leaks found
  1,000,000 x 10,000: 56.1 s wall, peak RSS 3,398 MiB, 300 of 300 planted leaks found
Phase split at 1,000,000 (in-process, earlier MinHash): load ~14-28 s, ctx.text("input") ~15 s,
exact 0.2-0.4 s, ngram ~9-12 s (word tokenization with polars' \\w+ regex is ~60% of it), near (shared
signatures + LSH) ~50 s; peak memory is set by the shared signatures, not by the window join.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

SYSTEM = ("You are a careful support assistant for a small online shop and you always answer politely "
          "in two short sentences.")


def _vocab(size: int, rng) -> np.ndarray:
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    words = {"".join(rng.choice(letters, rng.integers(3, 10))) for _ in range(size * 2)}
    return np.array(sorted(words)[:size])


def _record(user: str, answer: str) -> str:
    return json.dumps({"messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user},
                                    {"role": "assistant", "content": answer}]})


def generate(folder: str, n_train: int, n_eval: int, seed: int) -> int:
    """Write train.jsonl and eval.jsonl; returns the number of planted leaks."""
    rng = np.random.default_rng(seed)
    vocab = _vocab(30_000, rng)
    train_users = []
    with open(os.path.join(folder, "train.jsonl"), "w") as out:
        for start in range(0, n_train, 50_000):
            count = min(50_000, n_train - start)
            lengths = rng.integers(40, 91, count)
            answers = rng.integers(20, 41, count)
            words = vocab[rng.integers(0, len(vocab), int(lengths.sum() + answers.sum()))].tolist()
            position, lines = 0, []
            for length, answer in zip(lengths.tolist(), answers.tolist()):
                user = " ".join(words[position:position + length])
                position += length
                lines.append(_record(user, " ".join(words[position:position + answer])))
                position += answer
                train_users.append(user)
            out.write("\n".join(lines) + "\n")
    planted = max(1, n_eval // 100)
    sources = rng.choice(n_train, 3 * planted, replace=False).tolist()
    with open(os.path.join(folder, "eval.jsonl"), "w") as out:
        lines = []
        for i in range(n_eval):
            fresh = " ".join(vocab[rng.integers(0, len(vocab), int(rng.integers(40, 91)))].tolist())
            if i < planted:  # exact copy
                user = train_users[sources[i]]
            elif i < 2 * planted:  # one word edited
                words = train_users[sources[i]].split()
                words[int(rng.integers(0, len(words)))] = vocab[rng.integers(0, len(vocab))]
                user = " ".join(words)
            elif i < 3 * planted:  # 20 words pasted into a fresh row
                words = train_users[sources[i]].split()
                user = fresh + " " + " ".join(words[10:30])
            else:
                user = fresh
            lines.append(_record(user, "noted"))
        out.write("\n".join(lines) + "\n")
    return 3 * planted


def run(folder: str) -> dict:
    command = [sys.executable, "-m", "auditor", "audit", os.path.join(folder, "train.jsonl"),
               "--eval", os.path.join(folder, "eval.jsonl"), "--select", "leakage", "--no-cache", "-q",
               "--report", "json", "--output", os.path.join(folder, "report.json")]
    timed = ["/usr/bin/time", "-v"] + command if shutil.which("/usr/bin/time") else command
    started = time.perf_counter()
    proc = subprocess.run(timed, capture_output=True, text=True)
    wall = time.perf_counter() - started
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    peak_mib = (int(match.group(1)) if match else resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    if proc.returncode not in (0, 1):
        raise SystemExit(f"audit failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    with open(os.path.join(folder, "report.json")) as handle:
        report = json.load(handle)
    leakage = next(r for r in report["results"] if r["check"] == "leakage")
    return {"wall": wall, "peak_mib": peak_mib, "command": " ".join(command), "metrics": leakage["metrics"],
            "status": leakage["status"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", type=int, default=100_000)
    parser.add_argument("--eval", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", help="write the files into this folder and keep them")
    args = parser.parse_args()
    folder = args.keep or tempfile.mkdtemp(prefix="bench-leakage-")
    os.makedirs(folder, exist_ok=True)
    try:
        started = time.perf_counter()
        planted = generate(folder, args.train, args.eval, args.seed)
        print(f"generated {args.train:,} train x {args.eval:,} eval rows ({planted} planted leaks) "
              f"in {time.perf_counter() - started:.1f} s")
        load_before = os.getloadavg()
        result = run(folder)
        load_after = os.getloadavg()
        metrics = result["metrics"]
        print(f"command: {result['command']}")
        print(f"wall {result['wall']:.1f} s, peak RSS {result['peak_mib']:,.0f} MiB, status {result['status']}, "
              f"leaked {metrics['leaked_rows']} of {metrics['eval_rows']} (planted {planted}), "
              f"by detector {metrics['by_detector']}")
        print(f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
              f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
