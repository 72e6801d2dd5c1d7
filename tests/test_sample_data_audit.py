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
