"""Baselines and waivers: a repository with accepted findings passes until a new problem arrives."""

import json
import shutil
from pathlib import Path

import pytest

from auditor.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"


def _audit(capsys, *extra):
    with pytest.raises(SystemExit) as exc:
        main(["audit", "train.jsonl", "--eval", "eval.jsonl", "--schema", "schema.json", "--no-cache",
              "--report", "json", "--output", "report.json", *extra])
    out = capsys.readouterr().out
    return exc.value.code, json.loads(Path("report.json").read_text()), out


@pytest.fixture
def repo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("train.jsonl", "eval.jsonl", "schema.json"):
        shutil.copy(SAMPLE / name, tmp_path / name)
    return tmp_path


def test_a_baselined_dataset_passes_until_a_new_problem_arrives_and_says_what_is_new(repo, capsys):
    code, report, _ = _audit(capsys)
    assert code == 1 and report["verdict"]["status"] == "not_ready" and "review" not in report
    shutil.copy(repo / "report.json", repo / "baseline.json")
    code, report, out = _audit(capsys, "--baseline", "baseline.json")
    review = report["review"]
    assert code == 0 and review["new"] == 0 and review["fixed"] == 0 and review["reasons"] == []
    assert review["baselined"] == sum(len(r["findings"]) for r in report["results"])
    assert review["status"] == "ready_with_warnings" and report["verdict"]["status"] == "not_ready"
    assert "Review: 0 new," in out and "-> READY WITH WARNINGS" in out
    # a new broken line at the top: every old finding moved a line and is still known; the new one fails
    lines = (repo / "train.jsonl").read_text()
    (repo / "train.jsonl").write_text('{"messages": [\n' + lines)
    code, report, out = _audit(capsys, "--baseline", "baseline.json")
    new = [(f["code"], f["line"]) for r in report["results"] for f in r["findings"] if f["review"] == "new"]
    assert code == 1 and new == [("AUD001", 1)] and report["review"]["fixed"] == 0
    assert "Review: 1 new," in out


def test_a_waiver_accepts_one_finding_with_its_reason_until_it_expires(repo, capsys):
    _audit(capsys)
    shutil.copy(repo / "report.json", repo / "baseline.json")
    (repo / "train.jsonl").write_text('{"messages": [\n' + (repo / "train.jsonl").read_text())
    _, report, _ = _audit(capsys, "--baseline", "baseline.json")
    (fingerprint,) = [f["fingerprint"] for r in report["results"] for f in r["findings"] if f["review"] == "new"]
    (repo / "auditor-waivers.toml").write_text(
        f'[[waiver]]\nfingerprint = "{fingerprint}"\nreason = "kept to test the loader"\nexpires = 2999-01-01\n')
    code, report, _ = _audit(capsys, "--baseline", "baseline.json")  # the waivers file is read by default
    (waived,) = [f for r in report["results"] for f in r["findings"] if f["review"] == "waived"]
    assert code == 0 and waived["waiver"] == "kept to test the loader" and report["review"]["waived"] == 1
    (repo / "auditor-waivers.toml").write_text(
        f'[[waiver]]\nfingerprint = "{fingerprint}"\nreason = "kept to test the loader"\nexpires = 2020-01-01\n')
    code, report, _ = _audit(capsys, "--baseline", "baseline.json")
    assert code == 1 and report["review"]["expired_waivers"][0]["expires"] == "2020-01-01"


@pytest.mark.parametrize("text, message", [
    ('[[waiver]]\nreason = "x"\n', "waiver 1: 'fingerprint' must be"),
    ('[[waiver]]\nfingerprint = "ab"\n', "waiver 1: 'reason' must say why"),
    ('[[waiver]]\nfingerprint = "ab"\nreason = "x"\nexpires = "soon"\n', "'expires' must be a date"),
    ("[waiver\n", "invalid TOML"),
    ('[[waivers]]\nfingerprint = "ab"\n', "unknown key 'waivers'"),
])
def test_a_bad_waivers_file_or_baseline_is_one_line_exit_2(repo, capsys, text, message):
    (repo / "w.toml").write_text(text)
    with pytest.raises(SystemExit) as exc:
        main(["audit", "train.jsonl", "--waivers", "w.toml", "--no-cache", "-q"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and message in err and err.count("\n") == 1
    with pytest.raises(SystemExit) as exc:
        main(["audit", "train.jsonl", "--baseline", "missing.json", "--no-cache", "-q"])
    assert exc.value.code == 2 and "missing.json: baseline not found" in capsys.readouterr().err


def test_a_baseline_file_holds_each_dataset_apart_and_is_read_when_present(tmp_path, monkeypatch, capsys):
    from auditor.review import baseline_for, load_baseline

    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    for name in ("a", "b"):
        shutil.copy(SAMPLE / "train.jsonl", tmp_path / "data" / f"{name}.jsonl")
    (tmp_path / "auditor.toml").write_text('[[datasets]]\nname = "a"\ntrain = "data/a.jsonl"\n'
                                           '[[datasets]]\nname = "b"\ntrain = "data/b.jsonl"\n')
    with pytest.raises(SystemExit) as exc:
        main(["baseline", "write", "--output", "base.json"])
    assert exc.value.code == 0 and "base.json: " in capsys.readouterr().out
    baseline = load_baseline("base.json")
    a, b = (baseline_for(baseline, name, ()) for name in ("a", "b"))
    assert [e["train"] for e in baseline["audits"]] == [["data/a.jsonl"], ["data/b.jsonl"]]
    fingerprints = {f["fingerprint"] for r in a["results"] for f in r["findings"]}
    assert fingerprints and fingerprints == {f["fingerprint"] for r in b["results"] for f in r["findings"]}
    assert baseline_for(baseline, "c", ()) == {"results": [], "verdict": {"reasons": []}}  # unknown: all new
    # dataset b changes; with the file as auditor-baseline.json every audit reads it unasked
    Path("base.json").rename("auditor-baseline.json")
    with open(tmp_path / "data" / "b.jsonl", "a") as handle:
        handle.write("not json\n")
    with pytest.raises(SystemExit) as exc:
        main(["audit", "--no-cache"])
    out = capsys.readouterr().out
    assert exc.value.code == 1, out
    reviews = [line for line in out.splitlines() if line.startswith("Review: ")]
    assert reviews[0].startswith("Review: 0 new,") and reviews[1].startswith("Review: 1 new,"), out
    assert "-> NOT READY" in reviews[1] and "-> READY WITH WARNINGS" in reviews[0]
