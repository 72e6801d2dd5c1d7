"""auditor.audit(): the CLI's verdict and findings from Python, on files and on in-memory tables, with
the clean rows of each input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import auditor
from auditor.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"


def _cli_report(capsys, *args):
    with pytest.raises(SystemExit):
        main(["audit", *args, "--no-cache", "-q", "--report", "json", "--output", "-"])
    return json.loads(capsys.readouterr().out)


def _records(n=40):
    rows = [{"prompt": f"Question {i}: how many apples does person {i} have?",
             "completion": f"Person {i} has {i * 3} apples."} for i in range(n)]
    if n > 20:
        rows[9] = dict(rows[2])  # an exact duplicate of row 2: row 9 leaves the clean set
        rows[20] = dict(rows[2])  # and so does row 20
    return rows


def test_the_readme_notebook_example_gives_the_cli_verdict_and_findings(capsys, monkeypatch):
    readme = (ROOT / "README.md").read_text()
    example = re.search(r"<!-- api-example:begin -->\n```python\n(.*?)```\n<!-- api-example:end -->", readme, re.S).group(1)
    monkeypatch.chdir(SAMPLE)
    namespace: dict = {}
    exec(compile(example, "README.md", "exec"), namespace)  # the example as a notebook runs it
    result = namespace["result"]
    cli = _cli_report(capsys, "train.jsonl", "--eval", "eval.jsonl", "--schema", "schema.json")
    assert result.report == cli
    assert result.status == cli["verdict"]["status"] == "not_ready"
    assert result.exit_code() == 1
    kept = [(f["check"], f["code"], f["path"], f["line"]) for r in cli["results"] for f in r["findings"]]
    assert list(result.findings.select("check", "code", "path", "line").iter_rows()) == kept
    assert {name: int(mask.sum()) for name, mask in result.clean.items()} == {
        "train.jsonl": cli["verdict"]["clean_examples"], "eval.jsonl": cli["verdict"]["clean_eval_examples"]}


def test_clean_rows_are_the_valid_rows_no_check_removes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rows = _records()
    lines = [json.dumps(r) for r in rows]
    lines[30] = "{broken"  # line 31, row 30: not a record
    (tmp_path / "t.jsonl").write_text("\n".join(lines) + "\n")
    result = auditor.audit("t.jsonl", select="exact-duplicates", min_examples=5)
    assert result.excluded == {"t.jsonl": [9, 20, 30]}
    assert result.excluded_by("exact-duplicates") == {"t.jsonl": [9, 20]}
    assert result.clean["t.jsonl"].tolist() == [i not in (9, 20, 30) for i in range(40)]
    assert result.clean_examples == 37
    assert result.report["inputs"][0]["invalid_lines"] == [31]
    assert result.findings.filter(pl.col("check") == "exact-duplicates")["row"].to_list() == [2]


def _as_pandas(rows):
    pandas = pytest.importorskip("pandas")
    return pandas.DataFrame(rows)


def _as_arrow(rows):
    pyarrow = pytest.importorskip("pyarrow")
    return pyarrow.Table.from_pylist(rows)


def _as_hf(rows):
    datasets = pytest.importorskip("datasets")
    return datasets.Dataset.from_list(rows)


@pytest.mark.parametrize("convert", [list, pl.DataFrame, lambda rows: pl.DataFrame(rows).lazy(), _as_pandas,
                                     _as_arrow, _as_hf],
                         ids=["records", "polars", "lazy", "pandas", "arrow", "hf"])
def test_a_table_gives_the_findings_and_verdict_of_the_same_rows_in_a_file(tmp_path, monkeypatch, convert):
    monkeypatch.chdir(tmp_path)
    rows = _records()
    (tmp_path / "t.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    from_file = auditor.audit("t.jsonl", min_examples=30, config=False)
    table = convert(rows)
    from_table = auditor.audit(table, min_examples=30, config=False)

    def by_row(result):
        return [(f["check"], f["code"], f["severity"], f["line"], f["message"].replace("t.jsonl", "train"))
                for r in result.report["results"] for f in r["findings"]]

    assert by_row(from_table) == by_row(from_file) and by_row(from_file)
    assert from_table.status == from_file.status
    assert from_table.inputs == ["train"]
    assert from_table.report["inputs"][0]["input_format"] == "table"
    assert from_table.excluded == {"train": [9, 20]}
    clean = from_table.clean_data()
    assert type(clean) is type(table if not isinstance(table, pl.LazyFrame) else table.collect())
    assert len(clean) == 38
    assert _as_records(clean) == [r for i, r in enumerate(rows) if i not in (9, 20)]


def _as_records(table):
    module = type(table).__module__.split(".")[0]
    if isinstance(table, pl.DataFrame):
        return table.to_dicts()
    if module == "pandas":
        return table.to_dict("records")
    if module == "datasets":
        return table.to_list()
    return table.to_pylist() if module == "pyarrow" else list(table)


def test_train_and_eval_tables_are_named_and_leak_into_each_other(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    rows = _records()
    train = pl.DataFrame(rows[:30])
    held_out = rows[30:] + [rows[5]]  # the last eval row is train row 5
    result = auditor.audit(train, eval={"held-out": held_out}, select="leakage", min_examples=5,
                           min_eval_examples=5, config=False)
    assert result.inputs == ["train", "held-out"]
    assert result.excluded == {"train": [], "held-out": [10]}
    assert result.findings.filter(pl.col("check") == "leakage")["path"].to_list() == ["held-out"]
    two = auditor.audit([rows[:20], rows[20:]], select="count", min_examples=5, config=False)
    assert two.inputs == ["train-1", "train-2"]
    assert [i["lines"] for i in two.report["inputs"]] == [20, 20]


def test_a_schema_may_be_a_dict_and_a_bad_one_is_a_config_error(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    rows = [{"prompt": f"q{i}", "completion": json.dumps({"answer": i})} for i in range(10)]
    rows[4]["completion"] = json.dumps({"answer": "four"})
    schema = {"type": "object", "properties": {"answer": {"type": "integer"}}, "required": ["answer"]}
    result = auditor.audit(rows, schema=schema, select="output-schema", min_examples=5, config=False)
    assert result.excluded_by("output-schema") == {"train": [4]}
    assert result.report["settings"]["schema"] == "<schema>"
    with pytest.raises(auditor.ConfigError, match="schema: invalid JSON Schema at /type"):
        auditor.audit(rows, schema={"type": 12}, config=False)


def test_bad_arguments_are_config_errors_that_say_what_to_pass(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    rows = _records(10)
    with pytest.raises(auditor.ConfigError, match="unknown option 'min_exmaples'"):
        auditor.audit(rows, min_exmaples=3)
    with pytest.raises(auditor.ConfigError, match="train: cannot audit a set"):
        auditor.audit({"train": {1, 2}})
    with pytest.raises(auditor.ConfigError, match="unknown check 'nope'"):
        auditor.audit(rows, checks={"nope": {"x": 1}}, config=False)
    with pytest.raises(auditor.DatasetLoadError, match="missing.jsonl: file not found"):
        auditor.audit("missing.jsonl", config=False)
    with pytest.raises(ValueError, match="not an in-memory input"):
        (tmp_path / "t.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        auditor.audit("t.jsonl", config=False).clean_data("t.jsonl")


def test_the_notebook_view_shows_the_verdict_and_escapes_what_the_rows_hold(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    rows = _records(12)
    rows[6] = dict(rows[5])
    name = "<script>alert(1)</script>\u202e"  # a name the findings show
    result = auditor.audit({name: rows}, min_examples=50, config=False)
    fragment = result._repr_html_()
    assert "NOT READY" in fragment and "11 clean training examples (50 required)" in fragment
    assert "<script" not in fragment and "\u202e" not in fragment
    assert "<code>&lt;script&gt;alert(1)&lt;/script&gt;\\u202e:row 6</code>" in fragment
    assert repr(result).startswith("<Audit not_ready: 11 clean training examples of 50 required")
    assert result.to_markdown().startswith("<!-- dataset-auditor report -->\n## ") and json.loads(result.to_json())["verdict"]["status"] == "not_ready"
    assert np.array_equal(result.clean[name], np.array([i != 6 for i in range(12)]))
