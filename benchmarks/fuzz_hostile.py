"""Fuzz the auditor with malformed and hostile files, and run the resource bombs.

    python benchmarks/fuzz_hostile.py --files 10000            # the corpus (in this process, seeded)
    python benchmarks/fuzz_hostile.py --files 300 --bombs      # a quick corpus, then the bombs

Each corpus file holds a few lines drawn from a seeded generator: every record format with wrong
types, truncated and doubled JSON, NUL and invalid UTF-8 bytes, BOMs, deep nesting, huge and
non-finite numbers, lone surrogates, terminal escapes and workflow commands in keys and values,
tool schemas with remote, local and looping `$ref`s and catastrophic patterns. Every file is audited
twice (`auditor audit FILE --eval FILE2 --no-cache --report json`); the script counts exit codes,
tracebacks, crashed checks, lost lines, non-identical reports and raw control characters in the
terminal output, and prints the slowest file. Exit status 1 when any of those is not zero.

`--bombs` runs, each in a subprocess under /usr/bin/time: one 200 MB line, two gzip bombs (11 GiB of
zeros, 11 GiB of blank lines), five million identical rows (with the default memory cap and with
`--max-memory 2GiB`), and prints exit code, wall time and peak memory. Nothing is written outside a
temporary folder.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HOSTILE = ["\x1b]0;title\x07", "\x1b[2J", "\n::error file=README.md::x", "\u202e", "\ud800", "\x00", "\r", "@here",
           "https://evil.example/x"]
SCHEMAS = [{"$ref": "http://127.0.0.1:9/x.json"}, {"$ref": "file:///etc/hostname"}, {"$ref": "#/$defs/missing"},
           {"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"},
           {"type": "object", "properties": {"s": {"type": "string", "pattern": "^(a+)+$"}}},
           {"type": "dict"}, "not a schema", {"type": "object", "properties": {"n": {"type": "integer"}}}]


def text(rng: random.Random) -> str:
    words = ["order", "refund", "late", "Berlin", "42", "café", "注文", "заказ"]
    out = " ".join(rng.choice(words) for _ in range(rng.randint(0, 12)))
    if rng.random() < 0.3:
        out += rng.choice(HOSTILE)
    return out


def value(rng: random.Random, depth: int = 0):
    kind = rng.randrange(9 if depth < 3 else 5)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False, 0, -1, 1.5, 10**30])
    if kind in (2, 3, 4):
        return text(rng)
    if kind in (5, 6):
        return [value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(["role", "content", "x", text(rng)]): value(rng, depth + 1) for _ in range(rng.randint(0, 3))}


def record(rng: random.Random) -> dict:
    shape = rng.randrange(7)
    if shape == 0:
        turns = [{"role": rng.choice(["user", "assistant", "system", "tool", "bot", text(rng)]),
                  "content": rng.choice([text(rng), None, value(rng)])} for _ in range(rng.randint(0, 4))]
        out = {"messages": turns}
        if rng.random() < 0.4:
            out["tools"] = [{"type": "function", "function": {"name": text(rng) or "f",
                                                              "parameters": rng.choice(SCHEMAS)}}]
            out["messages"].append({"role": "assistant", "content": None, "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": text(rng) or "f",
                                                              "arguments": json.dumps({"s": "a" * 30 + "!", "n": "x"})}}]})
        return out
    if shape == 1:
        return {"prompt": rng.choice([text(rng), value(rng)]), "completion": rng.choice([text(rng), value(rng)])}
    if shape == 2:
        return {"text": text(rng), "label": rng.choice([text(rng), 3, None, [1]])}
    if shape == 3:
        return {"conversations": [{"from": rng.choice(["human", "gpt", "function_call", "observation"]),
                                   "value": text(rng)} for _ in range(rng.randint(0, 4))],
                "tools": rng.choice([json.dumps([{"name": "f", "parameters": rng.choice(SCHEMAS)}]), "[{", None])}
    if shape == 4:
        return {"instruction": text(rng), "input": value(rng), "output": text(rng)}
    if shape == 5:
        return {"prompt": text(rng), "chosen": value(rng), "rejected": value(rng)}
    return {text(rng): value(rng) for _ in range(rng.randint(1, 4))}


def line(rng: random.Random) -> bytes:
    raw = json.dumps(record(rng), ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")
    damage = rng.randrange(12)
    if damage == 0:
        return raw[: rng.randint(0, len(raw))]
    if damage == 1:
        return raw + raw
    if damage == 2:
        return raw.replace(b":", b":\x00", 1)
    if damage == 3:
        return raw[:3] + b"\xff\xfe" + raw[3:]
    if damage == 4:
        return b"\xef\xbb\xbf" + raw
    if damage == 5:
        return b'{"a": ' + b"[" * rng.randint(500, 3000) + b"]" * 10 + b"}"
    if damage == 6:
        return rng.choice([b'{"a": NaN}', b'{"a": 1e400}', b'{"a": "\\ud800"}', b'{"a": ' + b"9" * 5000 + b"}"])
    if damage == 7:
        return rng.choice([b"", b"   ", b"[]", b"null", b'"x"'])
    return raw


def audit(args: list[str], stdout: io.StringIO, stderr: io.StringIO) -> int:
    from auditor.cli import main

    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            main(args)
        except SystemExit as exc:
            return int(exc.code or 0)
    return 0


BAD = ("tracebacks", "raw control characters printed", "reports differing between two runs", "crashed checks",
       "lost lines")


def corpus(n: int, seed: int, folder: Path, only: set[int] | None = None, keep: Path | None = None) -> int:
    rng = random.Random(seed)
    tally: Counter = Counter()
    wrong: dict[str, list[int]] = {}
    slowest = (0.0, "")
    start = time.perf_counter()
    for i in range(n):
        train, evals = folder / f"t{i}.jsonl", folder / f"e{i}.jsonl"
        lines = [line(rng) for _ in range(rng.randint(1, 8))]
        eval_lines = [line(rng) for _ in range(rng.randint(1, 4))]
        if only is not None and i not in only:
            continue
        train.write_bytes(b"\n".join(lines) + b"\n")
        evals.write_bytes(b"\n".join(eval_lines) + b"\n")
        before = Counter(tally)
        reports = []
        began = time.perf_counter()
        for run in (0, 1):
            out, err = io.StringIO(), io.StringIO()
            output = folder / f"r{i}-{run}.json"
            code = audit(["audit", str(train), "--eval", str(evals), "--no-cache", "--report", "json", "--output",
                          str(output), "--no-progress"], out, err)
            tally[f"exit {code}"] += run == 0
            printed = out.getvalue() + err.getvalue()
            tally["tracebacks"] += "Traceback" in printed
            tally["raw control characters printed"] += bool(re.search(r"[\x00-\x08\x0b-\x1f\x7f\u202e]", printed))
            reports.append(output.read_bytes() if output.exists() else None)
        seconds = time.perf_counter() - began
        slowest = max(slowest, (seconds, train.name))
        tally["reports differing between two runs"] += reports[0] != reports[1]
        if reports[0] is not None:
            report = json.loads(reports[0])
            tally["crashed checks"] += sum(r["status"] == "error" for r in report["results"])
            tally["lost lines"] += report["verdict"]["train_rows"] != len(lines)
        bad = [key for key in BAD if tally[key] > before[key]]
        for key in bad:
            wrong.setdefault(key, []).append(i)
        for path in (train, evals, folder / f"r{i}-0.json", folder / f"r{i}-1.json"):
            if bad and keep is not None and path.exists():
                keep.mkdir(parents=True, exist_ok=True)
                shutil.copy(path, keep / path.name)
            path.unlink(missing_ok=True)
    elapsed = time.perf_counter() - start
    print(f"corpus: {n:,} file pairs ({2 * n:,} audits) in {elapsed:.0f} s; slowest pair {slowest[0]:.2f} s ({slowest[1]})")
    for key in sorted(tally):
        print(f"  {key}: {tally[key]:,}")
    for key, indices in sorted(wrong.items()):
        print(f"  {key} in pairs: {', '.join(map(str, indices[:20]))} (re-run them with --only)")
    return sum(tally[key] for key in BAD)


def bombs(folder: Path) -> None:
    auditor = [sys.executable, "-m", "auditor"]
    huge = folder / "huge.jsonl"
    with open(huge, "w") as handle:
        handle.write('{"prompt": "a", "completion": "b"}\n{"prompt": "' + "x" * 200_000_000 + '", "completion": "y"}\n')
    zeros = folder / "zeros.jsonl.gz"
    blank = folder / "blank.jsonl.gz"
    for path, piece in ((zeros, b"0" * (1 << 24)), (blank, b"\n" * (1 << 24))):
        member = gzip.compress(piece, compresslevel=9)  # 16 MiB in 16 KB; members concatenated are one stream
        with open(path, "wb") as handle:
            for _ in range(11 * 64):  # 11 GiB
                handle.write(member)
    identical = folder / "identical.jsonl"
    line = json.dumps({"messages": [{"role": "user", "content": "What is the capital of France? Answer briefly."},
                                    {"role": "assistant", "content": "Paris is the capital of France."}]}) + "\n"
    with open(identical, "w") as handle:
        for _ in range(50):
            handle.write(line * 100_000)
    runs = [("one 200 MB line", huge, []), ("gzip bomb, 11 GiB of zeros", zeros, []),
            ("gzip bomb, 11 GiB of blank lines", blank, []),
            ("5,000,000 identical rows", identical, []),
            ("5,000,000 identical rows, --max-memory 2GiB", identical, ["--max-memory", "2GiB"])]
    for name, path, extra in runs:
        done = subprocess.run(["/usr/bin/time", "-f", "%e %M", *auditor, "audit", str(path), "--no-cache", "-q", *extra],
                              capture_output=True, text=True, cwd=folder)
        *said, timing = done.stderr.strip().splitlines()
        seconds, peak = timing.split()
        said = [line for line in said if line.startswith("auditor:")]
        message = f" ({said[-1][:150]})" if said else ""
        print(f"bomb: {name}: exit {done.returncode}, {float(seconds):.1f} s, {int(peak) / 1024:.0f} MB peak{message}")
    for path in (huge, zeros, blank, identical):
        path.unlink()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000, help="corpus file pairs (each audited twice)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bombs", action="store_true", help="also run the resource bombs")
    parser.add_argument("--only", type=lambda text: {int(i) for i in text.split(",")},
                        help="audit only these pair numbers (comma-separated), as printed for a failure")
    parser.add_argument("--keep", type=Path, help="copy the files and reports of failing pairs into this folder")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="fuzz_hostile_"))
    try:
        wrong = corpus(args.files, args.seed, folder, args.only, args.keep)
        if args.bombs:
            bombs(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
