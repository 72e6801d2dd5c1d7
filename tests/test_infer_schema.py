"""auditor infer-schema: a draft schema from the clean JSON targets, robust to the broken ones."""

import json
from pathlib import Path

import jsonschema
import pytest
from conftest import planted_problems

from auditor.cli import main
from auditor.infer_schema import infer_schema
from auditor.testing import write_jsonl

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"


def run_cli(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def _final_answer(line):
    record = json.loads(line)
    return record["messages"][-1]["content"]


def test_sample_data_schema_accepts_clean_rows_and_rejects_planted_ones(tmp_path, capsys):
    oracle = planted_problems()["train.jsonl"]
    out = tmp_path / "schema.json"
    code, _, err = run_cli(["infer-schema", str(SAMPLE / "train.jsonl"), "--output", str(out)], capsys)
    assert code == 0
    schema = json.loads(out.read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    broken = set(oracle["schema_invalid"]) | set(oracle["not_json"]) | set(oracle["code_fence"])
    unusable = set(oracle["invalid_json"]) | set(oracle["not_object"]) | set(oracle["format"])
    checked = 0
    for number, line in enumerate((SAMPLE / "train.jsonl").read_text(encoding="utf-8").splitlines(), 1):
        if number in unusable:
            continue
        answer = _final_answer(line)
        try:
            value = json.loads(answer)
        except json.JSONDecodeError:
            value = answer
        assert validator.is_valid(value) == (number not in broken), (number, answer)
        checked += 1
    assert checked > 500
    assert "review it" in err


def test_output_dash_writes_to_stdout(tmp_path, capsys):
    path = write_jsonl(tmp_path / "t.jsonl", [{"prompt": f"p{i}", "completion": json.dumps({"a": i, "b": "x"})}
                                              for i in range(5)])
    code, out, _ = run_cli(["infer-schema", str(path), "--output", "-", "-q"], capsys)
    assert code == 0
    schema = json.loads(out)
    assert schema["required"] == ["a", "b"] and schema["properties"]["a"] == {"type": "integer"}


def test_missing_file_exits_2_with_one_line(tmp_path, capsys):
    code, out, err = run_cli(["infer-schema", str(tmp_path / "nope.jsonl")], capsys)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("auditor: error:")


def test_no_json_targets_exits_2(tmp_path, capsys):
    path = write_jsonl(tmp_path / "t.jsonl", [{"prompt": "p", "completion": "plain text"}])
    code, _, err = run_cli(["infer-schema", str(path)], capsys)
    assert code == 2 and "nothing to infer" in err


def test_outliers_do_not_widen_the_schema():
    targets = [(f"l{i}", json.dumps({"kind": ["a", "b", "c"][i % 3], "n": i, "tags": ["x"] * (1 + i % 2)}))
               for i in range(60)]
    targets += [("odd-type", json.dumps({"kind": "a", "n": "many", "tags": []})),
                ("extra", json.dumps({"kind": "a", "n": 1, "tags": [], "zzz": 1})),
                ("rare-enum", json.dumps({"kind": "zeta", "n": 1, "tags": []})),
                ("long", json.dumps({"kind": "a", "n": 1, "tags": ["x"] * 9})),
                ("text", "hello")]
    result = infer_schema(targets)
    schema = result.schema
    assert schema["properties"]["n"] == {"type": "integer"}
    assert schema["properties"]["kind"]["enum"] == ["a", "b", "c"]
    assert schema["properties"]["tags"]["maxItems"] == 2
    assert schema["additionalProperties"] is False
    assert result.used == 60 and result.targets == 65
    notes = "\n".join(result.notes)
    for where in ("odd-type", "extra", "rare-enum", "long"):
        assert where in notes


def test_objects_with_optional_keys_stay_open():
    targets = [(str(i), json.dumps({"a": i, **({"b": 1} if i % 2 else {})})) for i in range(10)]
    schema = infer_schema(targets).schema
    assert "additionalProperties" not in schema and schema["required"] == ["a"]
