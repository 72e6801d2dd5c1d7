"""`--engine ray` against the local engine: the same audit on a local Ray of this machine, its wall time
as a ratio to the local engine's, the peak memory of every process, whether the JSON reports are the
same byte for byte, and the per-stage rates the README's scale plan is computed from.

    flock /tmp/auditor-bench.lock python benchmarks/bench_ray.py --rows 100000
    flock /tmp/auditor-bench.lock python benchmarks/bench_ray.py --rows 1000000 --eval 10000

Data: bench_leakage.py's seeded chat rows (as bench_audit.py uses), every check but language, no cache.
Each engine audits in a fresh process; Ray is started by the audit with `--workers` CPUs (default 2) and
its processes (raylet, workers) are sampled while it runs for the memory each holds of its own (private
pages; the object store in shared memory is counted once, not once per process that maps it). A stage's
rate is rows per core-second: rows / (seconds x CPUs), the CPUs Ray was given.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _child import compile_bytecode  # noqa: E402
from bench_leakage import generate  # noqa: E402

CHILD = """
import json, sys, time
from auditor.config import AuditConfig
from auditor.engine import audit
from auditor.render.json_report import render_json
from auditor.engines import ray_data

train, evals, engine, workers, out = sys.argv[1:6]
stages = {}
close = ray_data.RayEngine.close
def keep_stages(self):
    stages.update(self.stages)
    close(self)
ray_data.RayEngine.close = keep_stages
config = AuditConfig(train=(train,), eval=(evals,) if evals else (), ignore=("language",), engine=engine,
                     workers=int(workers))
start = time.perf_counter()
report = audit(config)
wall = time.perf_counter() - start
with open(out, "w", encoding="utf-8") as handle:
    handle.write(render_json(report))
print(json.dumps({"wall": wall, "stages": stages}))
"""


def _private_bytes(pid: int) -> int:
    """The memory a process holds of its own (private pages, /proc/PID/smaps_rollup): its resident size
    less what it shares, such as the pages of Ray's object store that every reader of a block maps."""
    total = 0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith(("Private_Clean:", "Private_Dirty:")):
            total += int(line.split()[1]) * 1024
    return total


def _shared_memory_used() -> int:
    """Bytes in use on /dev/shm, where a local Ray keeps its object store."""
    try:
        stat = os.statvfs("/dev/shm")
    except OSError:
        return 0
    return (stat.f_blocks - stat.f_bfree) * stat.f_frsize


def _descendants(root: int) -> list[tuple[int, str, int]]:
    """(pid, command, private bytes) of `root` and every process below it, read from /proc (Linux)."""
    parents: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            parents.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        try:
            private = _private_bytes(pid)
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        found.append((pid, command[:60].strip(), private))
        todo += parents.get(pid, [])
    return found


def run(train: str, evals: str, engine: str, workers: int, out: str) -> dict:
    """One audit in a fresh process: its result line, the wall time, and the peak memory of it and its
    descendants (private pages of each process, plus the shared memory they use, counted once)."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", CHILD, train, evals, engine, str(workers), out],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"})
    peaks: dict[int, tuple[str, int]] = {}
    total_peak = [0]

    shm_before = _shared_memory_used()

    def sample() -> None:
        while child.poll() is None:
            total = max(0, _shared_memory_used() - shm_before)  # the object store, counted once
            for pid, name, private in _descendants(child.pid):
                total += private
                name = "driver" if pid == child.pid else name
                if private > peaks.get(pid, ("", 0))[1]:
                    peaks[pid] = (name, private)
            total_peak[0] = max(total_peak[0], total)
            time.sleep(0.2)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    stdout, stderr = child.communicate()
    watcher.join()
    if child.returncode != 0:
        raise SystemExit(f"{engine} audit failed:\n{stderr[-3000:]}")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["process_wall"] = time.perf_counter() - start
    result["peaks"] = sorted(peaks.values(), key=lambda p: -p[1])
    result["total_peak"] = total_peak[0]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="train rows")
    parser.add_argument("--eval", type=int, default=5_000, help="eval rows")
    parser.add_argument("--workers", type=int, default=2, help="CPUs of the local Ray")
    args = parser.parse_args()
    compile_bytecode()
    mib = 1 << 20
    with tempfile.TemporaryDirectory(prefix="bench_ray_") as folder:
        generate(folder, args.rows, max(args.eval, 1), seed=1)
        train, evals = os.path.join(folder, "train.jsonl"), os.path.join(folder, "eval.jsonl")
        print(f"{args.rows:,} train + {args.eval:,} eval chat rows, every check but language, no cache; "
              f"load {os.getloadavg()[0]:.2f}", flush=True)
        local = run(train, evals, "local", args.workers, os.path.join(folder, "local.json"))
        print(f"  local: {local['wall']:.1f} s in the audit ({local['process_wall']:.1f} s with the process), "
              f"peak {local['total_peak'] / mib:,.0f} MiB; load {os.getloadavg()[0]:.2f}", flush=True)
        ray = run(train, evals, "ray", args.workers, os.path.join(folder, "ray.json"))
        same = Path(folder, "local.json").read_bytes() == Path(folder, "ray.json").read_bytes()
        driver = next((size for name, size in ray["peaks"] if name == "driver"), 0)
        workers = [size for name, size in ray["peaks"] if "default_worker" in name or "ray::" in name]
        print(f"  ray:   {ray['wall']:.1f} s in the audit ({ray['process_wall']:.1f} s with the process) = "
              f"{ray['wall'] / local['wall']:.2f}x local; peak memory (private): driver "
              f"{driver / mib:,.0f} MiB, largest Ray worker {max(workers, default=0) / mib:,.0f} MiB "
              f"({len(workers)} workers), every process with the object store {ray['total_peak'] / mib:,.0f} MiB; load {os.getloadavg()[0]:.2f}")
        print(f"  JSON reports byte-identical: {'yes' if same else 'NO'}")
        print("  stage (on Ray)            seconds   rows        rows/core-s   shuffled bytes/row")
        for stage, (seconds, rows, shuffled) in sorted(ray["stages"].items(), key=lambda s: -s[1][0]):
            rate = rows / (seconds * args.workers) if seconds else float("inf")
            print(f"  {stage:<25} {seconds:7.2f}   {rows:<10,}  {rate:12,.0f}   "
                  f"{shuffled / rows if rows and shuffled else 0:.0f}")
        if not same:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
