"""Speed of the contradictions check on 100,000 chat records, on top of the shared MinHash artefacts.

Generates its own chat data (seeded): a few system prompts, 40-80 word user tickets, JSON answers, with
planted groups: identical prompts with different answers (contradictions), identical prompts with the
same answer (duplicates, not contradictions), and lightly reworded prompts with different answers (near
contradictions). Loads it as an audit would, then times separately
  1. the shared artefacts every similarity check uses: `similarity.signatures(ctx, "input")` and the
     band keys for the check's threshold (computed once per audit, shared with near-duplicates/leakage);
  2. `Contradictions().run(ctx)` on that context (includes normalizing the `prompt` and `system` texts);
  3. a second `run()` (every text artefact already built: grouping, near pairs and judging only).

    flock /tmp/auditor-bench.lock python benchmarks/bench_contradictions.py --rows 100000

Measured on the shared 2-core VM (load average 1.7 / 2.2 / 2.5 during the run, other engineers active):
  load + normalize 1.64 s, shared signatures + band keys 1.92 s, contradictions run() 0.76 s
  (second run 0.50 s); 1,979 of 1,979 planted contradicting groups found, 3,995 rows excluded.
  Earlier runs under load average 2.6-4.8: run() 0.59-1.00 s.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import tempfile
import time
from pathlib import Path

from auditor import AuditContext, Settings, similarity
from auditor.input.dataset import load_dataset
from dataset_auditor_checks.contradictions import Contradictions

SYSTEMS = ["You are a support triage assistant. Reply with a compact JSON object.",
           "You triage billing tickets. Reply with JSON only.",
           "You are a helpful assistant for a shop. Answer in JSON."]
CATEGORIES = ["billing", "refund", "shipping", "bug_report", "account_access", "performance"]


def make_records(n: int, seed: int, rate: float):
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(20_000)]
    cumulative = list(itertools.accumulate(1.0 / (i + 1) ** 0.8 for i in range(len(vocab))))  # Zipf-ish

    def ticket():
        return " ".join(rng.choices(vocab, cum_weights=cumulative, k=rng.randint(40, 80)))

    def answer():
        return {"category": rng.choice(CATEGORIES), "priority": rng.randint(1, 4), "summary": ticket()[:80]}

    records = [(rng.choice(SYSTEMS), ticket(), answer()) for _ in range(n)]
    planted = int(n * rate)
    targets = rng.sample(range(n), 3 * planted)
    sources = sorted(set(range(n)) - set(targets))  # sources are never overwritten
    contradicted: set[int] = set()
    for k, j in enumerate(targets):
        source = rng.choice(sources)
        system, user, target = records[source]
        kind = k % 3
        if kind != 1:
            contradicted.add(source)
        if kind == 0:  # same prompt, different answer
            records[j] = (system, user, {**target, "category": rng.choice([c for c in CATEGORIES
                                                                           if c != target["category"]])})
        elif kind == 1:  # exact duplicate, not a contradiction
            records[j] = (system, user, dict(reversed(list(target.items()))))  # key order differs
        else:  # one word more, different answer: a near contradiction
            records[j] = (system, user + " thanks", {**target, "priority": target["priority"] % 4 + 1})
    lines = [json.dumps({"messages": [{"role": "system", "content": s}, {"role": "user", "content": u},
                                      {"role": "assistant", "content": json.dumps(a)}]}) for s, u, a in records]
    return lines, len(contradicted)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--rate", type=float, default=0.01, help="share of rows in each planted kind")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    lines, expected = make_records(args.rows, args.seed, args.rate)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "train.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        t0 = time.perf_counter()
        data = load_dataset(str(path), "train", first_row=0)
        ctx = AuditContext([data], Settings())
        load = time.perf_counter() - t0

        check = Contradictions()
        t0 = time.perf_counter()
        similarity.signatures(ctx, "input")
        similarity.band_keys(ctx, "input", threshold=check.options.threshold)
        shared = time.perf_counter() - t0

        t0 = time.perf_counter()
        result = check.run(ctx)
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        check.run(ctx)
        second = time.perf_counter() - t0

    print(f"rows {args.rows:,}, planted contradicting groups {expected:,} (seed {args.seed})")
    print(f"load + normalize          {load:6.2f} s")
    print(f"shared signatures + bands {shared:6.2f} s")
    print(f"contradictions run()      {first:6.2f} s  (second run {second:.2f} s)")
    print(f"groups found {result.metrics['groups']:,} (expected {expected:,}), rows involved {result.metrics['rows_involved']:,}, "
          f"excluded {result.metrics['rows_excluded']:,}")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
