"""--output-format (ruff's sense): one finding per line, GitHub annotations and job summary, statistics."""

import json

import pytest
from conftest import run_cli

from auditor.testing import write_jsonl


@pytest.fixture
def data(tmp_path, monkeypatch):
    """60 rows: line 3 copied on line 60, a broken line 61 whose text tries to start a workflow command."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    rows = [{"prompt": f"question {i} about order {i * 7919}", "completion": f"answer {i} for {i * 104729}"}
            for i in range(59)] + [{"prompt": "question 2 about order 15838", "completion": "answer 2 for 209458"}]
    write_jsonl(tmp_path / "t.jsonl", rows)
    with open(tmp_path / "t.jsonl", "a") as handle:
        handle.write('{"prompt": 100%\r\n::set-output name=x::owned\n')
    return tmp_path


def test_concise_prints_every_finding_in_file_order_and_ends_with_the_verdict_and_totals(data, capsys):
    code, out, _ = run_cli(["audit", "t.jsonl", "--no-cache", "--output-format", "concise"], capsys)
    lines = out.splitlines()
    assert code == 1
    assert lines[0] == "t.jsonl:3: warning DUP001 exact-duplicates: Same prompt and response on 2 lines: 3, 60"
    assert lines[1].startswith("t.jsonl:61: error AUD001 input: invalid JSON")
    assert lines[2].startswith("t.jsonl:62: error AUD001 input: invalid JSON")
    assert lines[-1] == ("NOT READY: 59 clean training examples (500 required), no eval set; "
                         "2 errors, 1 warning, 0 info")
    assert "Checklist:" not in out


def test_the_summary_ends_with_the_verdict_too(data, capsys):
    code, out, _ = run_cli(["audit", "t.jsonl", "--no-cache"], capsys)
    assert out.startswith("NOT READY: 59 clean") and out.splitlines()[-1].endswith("2 errors, 1 warning, 0 info")


def test_github_annotations_escape_dataset_text_and_the_job_summary_is_written(data, capsys, monkeypatch):
    summary = data / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code, out, _ = run_cli(["audit", "t.jsonl", "--no-cache", "--output-format", "github"], capsys)
    lines = out.splitlines()
    assert code == 1
    # errors first, then warnings, then the verdict; every line is one annotation
    assert [line.split(" ", 1)[0] for line in lines] == ["::error", "::error", "::warning", "::error"]
    assert lines[0].startswith("::error file=t.jsonl,line=61,title=AUD001 input::invalid JSON")
    assert lines[2] == ("::warning file=t.jsonl,line=3,title=DUP001 exact-duplicates::"
                        "Same prompt and response on 2 lines: 3, 60")
    assert lines[3] == ("::error title=dataset-auditor::NOT READY: 59 clean training examples (500 required), "
                        "no eval set; 2 errors, 1 warning, 0 info")
    assert not any(line.startswith("::set-output") for line in lines)
    text = summary.read_text()
    assert text.startswith("earlier step\n<!-- dataset-auditor report -->\n## ❌ NOT READY: 59 clean training examples") and "| Check |" in text


def test_a_property_or_message_cannot_split_an_annotation():
    from auditor.render.lines import _data, _property

    assert _data("100% done\r\nnext::x") == "100%25 done%0D%0Anext::x"
    assert _property("a,b:c%") == "a%2Cb%3Ac%25"


def test_jsonl_is_one_finding_per_line_and_output_sends_it_to_a_file(data, capsys):
    code, out, _ = run_cli(["audit", "t.jsonl", "--no-cache", "--output-format", "jsonl", "--output", "f.jsonl"], capsys)
    assert code == 1 and out == ""
    findings = [json.loads(line) for line in (data / "f.jsonl").read_text().splitlines()]
    assert [(f["line"], f["code"]) for f in findings] == [(3, "DUP001"), (61, "AUD001"), (62, "AUD001")]
    assert all(f["fingerprint"] for f in findings)


def test_statistics_count_findings_by_code(data, capsys):
    code, out, _ = run_cli(["audit", "t.jsonl", "--no-cache", "--statistics"], capsys)
    assert code == 1
    assert out.splitlines()[:2] == ["2  AUD001   input              error", "1  DUP001   exact-duplicates   warning"]
    code, _, err = run_cli(["audit", "t.jsonl", "--statistics", "--output-format", "json"], capsys)
    assert code == 2 and "give one of them" in err


def test_a_document_format_goes_to_stdout_and_an_unknown_one_is_a_usage_error(data, capsys):
    code, out, _ = run_cli(["audit", "t.jsonl", "--no-cache", "--output-format", "sarif"], capsys)
    assert code == 1 and json.loads(out)["version"] == "2.1.0"
    code, _, err = run_cli(["audit", "t.jsonl", "--output-format", "xml"], capsys)
    assert code == 2 and "unknown report format 'xml'" in err
