"""The engine's own findings on sample_data match the planted problems of its README exactly."""

from conftest import SAMPLE, planted_problems

from auditor.config import AuditConfig
from auditor.engine import audit


def sample_report(**overrides):
    config = AuditConfig(train=(str(SAMPLE / "train.jsonl"),), eval=(str(SAMPLE / "eval.jsonl"),),
                         schema=str(SAMPLE / "schema.json"), select=("count", "format"), **overrides)
    return audit(config)


def result(report, check):
    return next(r for r in report["results"] if r["check"] == check)


def test_unreadable_lines_and_format_errors_are_exactly_the_planted_ones():
    oracle = planted_problems()["train.jsonl"]
    report = sample_report()
    unreadable = sorted(f["line"] for f in result(report, "input")["findings"])
    assert unreadable == sorted(oracle["invalid_json"] + oracle["not_object"])
    broken = sorted({f["line"] for f in result(report, "format")["findings"] if f["severity"] == "error"})
    assert broken == sorted(oracle["format"])
    assert result(report, "format")["findings_total"] == len(oracle["format"])  # no warnings on clean rows
    assert report["verdict"]["status"] == "not_ready"


def test_without_the_format_check_the_engine_still_reports_the_invalid_records():
    # the rows leave the clean set either way; with --ignore format their findings must not vanish
    oracle = planted_problems()["train.jsonl"]
    config = AuditConfig(train=(str(SAMPLE / "train.jsonl"),), eval=(str(SAMPLE / "eval.jsonl"),),
                         select=("count",))
    without = audit(config)
    errors = sorted({line for f in result(without, "input")["findings"] if f["code"] == "FMT001"
                     for line in f["data"].get("lines", [f["line"]])})
    assert errors == sorted(oracle["format"])
    assert result(without, "input")["metrics"]["invalid_records"] == len(oracle["format"])
    assert result(without, "input")["summary"].endswith(f"; {len(oracle['format'])} records break their format")
    with_check = sample_report()
    assert not [f for f in result(with_check, "input")["findings"] if f["code"].startswith("FMT")]
    assert "invalid_records" not in result(with_check, "input")["metrics"]
    assert without["verdict"]["clean_examples"] == with_check["verdict"]["clean_examples"]
