import json

import pytest
from render_samples import hostile_train

from auditor.cli import main
from auditor.testing import write_jsonl

FORMATS = {"json": "r.json", "markdown": "r.md", "html": "r.html", "sarif": "r.sarif", "text": "r.txt"}


def run(*argv: str) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    return exit_info.value.code


@pytest.fixture
def audited(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_jsonl(tmp_path / "train.jsonl", hostile_train())
    write_jsonl(tmp_path / "eval.jsonl", [{"text": "late parcel", "label": "delivery"}] * 6)
    argv = ["audit", "train.jsonl", "--eval", "eval.jsonl", "--select", "count,format", "--min-examples", "10",
            "--min-eval-examples", "5", "-q"]
    for name, path in FORMATS.items():
        argv += ["--report", "md" if name == "markdown" else name, "--output", path]
    assert run(*argv) == 1
    return tmp_path


def test_every_format_from_one_audit_command(audited):
    for path in FORMATS.values():
        assert (audited / path).stat().st_size > 200, path
    assert (audited / "r.md").read_text(encoding="utf-8").startswith("<!-- dataset-auditor report -->\n## ❌ NOT READY")
    assert (audited / "r.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert json.loads((audited / "r.sarif").read_text(encoding="utf-8"))["version"] == "2.1.0"


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_rerendering_the_json_gives_identical_bytes(audited, fmt):
    assert run("report", "r.json", "--format", fmt, "--output", f"again.{fmt}") in (0, None)
    assert (audited / f"again.{fmt}").read_bytes() == (audited / FORMATS[fmt]).read_bytes()


@pytest.mark.parametrize("content, expected", [
    ("{not json", "not a JSON report"),
    ('{"schema_version": 1}', "not an auditor JSON report"),
    ("[1, 2]", "not an auditor JSON report"),
])
def test_an_invalid_report_exits_2_with_one_line(tmp_path, capsys, content, expected):
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    assert run("report", str(bad), "--format", "html", "--output", str(tmp_path / "x.html")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err
    assert not (tmp_path / "x.html").exists()


def test_missing_report_and_unknown_format_exit_2(tmp_path, capsys):
    assert run("report", str(tmp_path / "none.json"), "--format", "md") == 2
    assert "report not found" in capsys.readouterr().err
    (tmp_path / "ok.json").write_text("{}", encoding="utf-8")
    assert run("report", str(tmp_path / "ok.json"), "--format", "pdf") == 2
    assert "unknown report format 'pdf'" in capsys.readouterr().err
