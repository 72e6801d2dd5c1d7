"""Content fingerprints: a finding keeps its fingerprint when lines move; SARIF alerts follow them."""

import json
import shutil
from pathlib import Path

import pytest

from auditor.cli import main

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
NEW_FIRST_LINE = ('{"messages": [{"role": "system", "content": "You are a support triage assistant."}, '
                  '{"role": "user", "content": "The export button greys out after I pick a date range longer than '
                  'a month, on both browsers I tried."}, {"role": "assistant", "content": "{\\"category\\": '
                  '\\"bug_report\\", \\"priority\\": \\"medium\\", \\"sentiment\\": \\"negative\\", \\"needs_human\\": '
                  'false, \\"tags\\": [\\"export\\"]}"}]}\n')


def _report(capsys, *args):
    with pytest.raises(SystemExit):
        main(["audit", *args, "--no-cache", "-q", "--report", "json", "--output", "-"])
    return json.loads(capsys.readouterr().out)


def _fingerprints(report):
    return {f["fingerprint"]: (f["code"], f["line"]) for r in report["results"] for f in r["findings"]}


def test_inserting_a_line_on_top_keeps_every_fingerprint_and_sarif_uses_them(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("train.jsonl", "eval.jsonl", "schema.json"):
        shutil.copy(SAMPLE / name, tmp_path / name)
    before = _fingerprints(_report(capsys, "train.jsonl", "--eval", "eval.jsonl", "--schema", "schema.json"))
    assert len(before) > 20 and all(len(k.split(":")[0]) == 32 for k in before)
    (tmp_path / "train.jsonl").write_text(NEW_FIRST_LINE + (SAMPLE / "train.jsonl").read_text())
    after_report = _report(capsys, "train.jsonl", "--eval", "eval.jsonl", "--schema", "schema.json")
    after = _fingerprints(after_report)
    assert set(before) <= set(after)
    moved = [k for k, (code, line) in before.items() if line and after[k][1] == line + 1]
    assert len(moved) > 10  # train findings moved down one line, their fingerprints the same
    with pytest.raises(SystemExit):
        main(["audit", "train.jsonl", "--eval", "eval.jsonl", "--schema", "schema.json", "--no-cache", "-q",
              "--report", "sarif", "--output", "-"])
    sarif = json.loads(capsys.readouterr().out)
    prints = {r["partialFingerprints"]["auditorFinding/v2"] for r in sarif["runs"][0]["results"]}
    assert prints == set(after)
