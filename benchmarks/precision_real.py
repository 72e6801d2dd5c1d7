"""Precision of the checks on the real public sets of ../shared/data: known true and false findings.

    python benchmarks/precision_real.py            # every scenario whose sources are present
    python benchmarks/precision_real.py --out /tmp/real --keep

Converts the sets with `real_sets.py`, audits them with every check (JSON report, no cache) and
prints, per scenario, the findings per check and code, then each known case as `ok` or `WRONG`:
a finding a reviewer would call a false alarm, or a real problem the audit missed. Sets whose
sources are absent are skipped. Exits 1 when a known case is wrong. The known cases:

- gsm8k (train, eval test): test line 582 shares one 13-word phrase with train line 407: no leak;
  test lines 603 and 633 are the problems of train lines 1315 and 21 with other names and numbers:
  reported (a leak or a template warning); no row leaves the clean set for a free-text contradiction.
- gsm8k test as train, mgsm-en as eval: all 250 MGSM English questions are in GSM8K test verbatim.
- oasst, fastchat-sharegpt: ranked alternative replies and paraphrases: no row leaves the clean set
  for a free-text contradiction.
- bfcl-json-schema: no duplicate or contradiction between rows whose functions differ.
- clinc150, all splits as train: the four texts with two intents are contradictions on every line;
  train with val and test as eval: their cross-split copies are leaks with a conflicting label.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import real_sets  # noqa: E402  (the converter beside this script)


def audit(args: list[str], report: Path) -> tuple[dict, float]:
    command = [*real_sets.auditor_command(), "audit", *args, "--no-cache", "--max-findings", "0",
               "--no-progress", "-q", "--report", "json", "--output", str(report)]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"auditor exited {done.returncode}: {done.stderr.strip()}")
    return json.loads(report.read_text(encoding="utf-8")), seconds


def findings(report: dict, code: str | None = None) -> list[dict]:
    return [f for r in report["results"] for f in r["findings"] if code is None or f["code"] == code]


def excluded_by(report: dict, check: str) -> int:
    result = next((r for r in report["results"] if r["check"] == check), None)
    return int(result["excluded_rows"]) if result and "excluded_rows" in result else 0


class Scenario:
    def __init__(self, name: str, report: dict, seconds: float):
        self.name, self.report, self.wrong = name, report, 0
        verdict = report["verdict"]
        counts = Counter((f["check"], f["code"]) for f in findings(report))
        shown = ", ".join(f"{code}={n:,}" for (_, code), n in sorted(counts.items())) or "no findings"
        print(f"\n{name}: {verdict['status']}, clean {verdict['clean_examples']:,}/{verdict['valid_examples']:,} "
              f"({seconds:.1f} s)\n  findings: {shown}")
        for result in report["results"]:
            self.expect(not result.get("error"), f"{result['check']} ran" + (f": {result['error']}"
                                                                           if result.get("error") else ""))

    def expect(self, ok: bool, what: str) -> None:
        print(f"  {'ok   ' if ok else 'WRONG'} {what}")
        self.wrong += not ok


def _lines(report: dict, code: str, path_end: str) -> set[int]:
    return {f["line"] for f in findings(report, code) if f["path"].endswith(path_end)}


def gsm8k(sets, out) -> int:
    real = sets["gsm8k"]
    s = Scenario("gsm8k train, eval test", *audit(real.audit_args(), out / "p-gsm8k.json"))
    leaks = _lines(s.report, "LEAK001", "test.jsonl")
    reported = leaks | _lines(s.report, "LEAK004", "test.jsonl")
    s.expect(582 not in leaks, "test line 582 (one shared phrase with train line 407) is no leak")
    s.expect({603, 633} <= reported, "test lines 603 and 633 (templates of train lines 1315, 21) are reported")
    s.expect(excluded_by(s.report, "contradictions") == 0, "no row leaves the clean set for a free-text contradiction")
    return s.wrong


def mgsm_en(sets, out) -> int:
    test = sets["gsm8k"].evals[0]
    s = Scenario("gsm8k test as train, eval mgsm-en", *audit([str(test), "--eval", str(sets["mgsm-en"].train),
                                                               "--select", "leakage"], out / "p-mgsm.json"))
    exact = [f for f in findings(s.report, "LEAK001") if "exact" in f["data"]["detectors"]]
    s.expect(len(exact) == 250, f"all 250 MGSM English rows found verbatim in GSM8K test ({len(exact)})")
    return s.wrong


def free_text(sets, out, name) -> int:
    s = Scenario(name, *audit(sets[name].audit_args(), out / f"p-{name}.json"))
    s.expect(excluded_by(s.report, "contradictions") == 0,
             f"no row leaves the clean set for a free-text contradiction "
             f"({len(findings(s.report, 'CON003'))} CON003 warnings)")
    return s.wrong


def bfcl(sets, out) -> int:
    real = sets["bfcl-json-schema"]
    s = Scenario("bfcl-json-schema", *audit(real.audit_args(), out / "p-bfcl.json"))
    rows = [json.loads(line) for line in real.train.read_text(encoding="utf-8").splitlines()]

    def functions(line):
        return sorted(json.dumps(t["function"], sort_keys=True) for t in rows[line - 1].get("tools", []))

    mixed = 0
    for f in findings(s.report):
        if f["code"] in ("DUP001", "DUP002", "CON002"):
            lines = [f["line"]] + [r["line"] for r in f["related"]]
            mixed += len({tuple(functions(n)) for n in lines}) > 1
    s.expect(mixed == 0, f"no duplicate or contradiction between rows whose functions differ ({mixed})")
    return s.wrong


def clinc150(sets, out) -> int:
    real = sets["clinc150"]
    splits = [real.train, *real.evals]
    s = Scenario("clinc150 all splits as train", *audit([str(p) for p in splits] + ["--select", "contradictions"],
                                                         out / "p-clinc-all.json"))
    texts = {}
    for path in splits:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            record = json.loads(line)
            texts.setdefault(record["text"].strip().lower(), []).append((path.name, n, record["label"]))
    two_intents = {t: places for t, places in texts.items() if len({label for _, _, label in places}) > 1}
    groups = findings(s.report, "CON001")
    covered = {(Path(f["path"]).name, f["line"]) for f in groups} | {
        (Path(r["path"]).name, r["line"]) for f in groups for r in f["related"]}
    wanted = {(name, n) for places in two_intents.values() for name, n, _ in places}
    s.expect(len(two_intents) == 4 and wanted <= covered,
             f"the {len(two_intents)} texts with two intents are contradictions on all {len(wanted)} of their lines")
    t = Scenario("clinc150 train, eval val and test", *audit(real.audit_args(), out / "p-clinc.json"))
    conflicts = {(Path(f["path"]).name, f["line"]) for f in findings(t.report, "LEAK003")}
    copies = {(name, n) for places in two_intents.values() for name, n, label in places
              if name != "train.jsonl" and any(p == "train.jsonl" and other != label for p, _, other in places)}
    t.expect(conflicts == copies, f"their cross-split copies with another label are LEAK003 ({len(conflicts)} "
                                  f"of {len(copies)})")
    return s.wrong + t.wrong


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", help="shared data directory (default: $AUDITOR_REAL_DATA or ../shared/data)")
    parser.add_argument("--out", help="where the converted sets and reports go (default: a temporary directory)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="precision_real_"))
    sets = real_sets.convert(real_sets.data_dir(args.data), out)
    print(f"machine: load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    wrong = 0
    if "gsm8k" in sets:
        wrong += gsm8k(sets, out)
        if "mgsm-en" in sets:
            wrong += mgsm_en(sets, out)
    for name in ("oasst", "fastchat-sharegpt"):
        if name in sets:
            wrong += free_text(sets, out, name)
    if "bfcl-json-schema" in sets:
        wrong += bfcl(sets, out)
    if "clinc150" in sets:
        wrong += clinc150(sets, out)
    print(f"\n{wrong} known case(s) wrong" if wrong else "\nevery known case right")
    if not args.out and not args.keep:
        shutil.rmtree(out, ignore_errors=True)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
