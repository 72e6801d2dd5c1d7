"""Tests for sample_data/: determinism of the generator and sanity of the planted-problem oracle."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
FILES = ["train.jsonl", "eval.jsonl", "schema.json", "README.md"]

ORACLE_RE = re.compile(
    r"^<!-- planted:begin -->\n```json\n(?P<body>.*?)\n```\n<!-- planted:end -->$",
    re.MULTILINE | re.DOTALL,
)

TRAIN_KEYS = [
    "invalid_json", "not_object", "format", "exact_duplicates", "near_duplicates", "contradictions",
    "schema_invalid", "not_json", "code_fence", "non_english", "language_mismatch",
]
EVAL_KEYS = ["leak_exact", "leak_near", "leak_ngram"]


def load_oracle() -> dict:
    text = (SAMPLE / "README.md").read_text(encoding="utf-8")
    m = ORACLE_RE.search(text)
    assert m, "README.md has no <!-- planted:begin --> ... <!-- planted:end --> block"
    return json.loads(m.group("body"))


def read_lines(name: str) -> list[str]:
    data = (SAMPLE / name).read_bytes()
    assert data.endswith(b"\n") and not data.startswith(b"\xef\xbb\xbf") and b"\r" not in data
    return data.decode("utf-8").split("\n")[:-1]


def flat(v) -> list[int]:
    return [x for c in v for x in c] if v and isinstance(v[0], list) else list(v)


@pytest.fixture(scope="module")
def oracle() -> dict:
    return load_oracle()


@pytest.fixture(scope="module")
def validator():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((SAMPLE / "schema.json").read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    return jsonschema.Draft202012Validator(schema)


def test_generator_is_deterministic(tmp_path):
    pytest.importorskip("jsonschema")  # the generator self-verifies with jsonschema
    subprocess.run([sys.executable, str(SAMPLE.parent / "tools" / "sample_data" / "generate.py"), "--out", str(tmp_path), "--quiet"],
                   check=True, cwd=str(tmp_path), timeout=300)
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (SAMPLE / name).read_bytes(), f"{name} differs from committed file"


def test_oracle_shape(oracle):
    assert set(oracle) == {"train.jsonl", "eval.jsonl"}
    assert list(oracle["train.jsonl"]) == TRAIN_KEYS
    assert list(oracle["eval.jsonl"]) == EVAL_KEYS
    for k in TRAIN_KEYS:
        assert oracle["train.jsonl"][k], f"train category {k} is empty"
    for k in EVAL_KEYS:
        assert oracle["eval.jsonl"][k], f"eval category {k} is empty"
    # every planted line appears in exactly one category
    seen = [x for k in TRAIN_KEYS for x in flat(oracle["train.jsonl"][k])]
    assert len(seen) == len(set(seen))
    for k in ("exact_duplicates", "near_duplicates", "contradictions"):
        clusters = oracle["train.jsonl"][k]
        assert all(c == sorted(c) and len(c) >= 2 for c in clusters)
        assert [c[0] for c in clusters] == sorted(c[0] for c in clusters)
    eval_lines = [int(e) for k in EVAL_KEYS for e in oracle["eval.jsonl"][k]]
    assert len(eval_lines) == len(set(eval_lines))


def test_minimum_counts(oracle):
    t, e = oracle["train.jsonl"], oracle["eval.jsonl"]
    assert len(t["invalid_json"]) >= 2 and len(t["format"]) >= 2 and len(t["not_object"]) >= 1
    assert len(t["exact_duplicates"]) >= 3 and any(len(c) == 3 for c in t["exact_duplicates"])
    assert len(t["near_duplicates"]) >= 4 and len(t["contradictions"]) >= 3
    assert len(t["schema_invalid"]) >= 4 and len(t["non_english"]) >= 4
    assert len(e["leak_exact"]) >= 2 and len(e["leak_near"]) >= 2 and len(e["leak_ngram"]) >= 1
    train, evl = read_lines("train.jsonl"), read_lines("eval.jsonl")
    assert len(train) >= 620 and len(evl) >= 70
    assert all(1 <= x <= len(train) for k in TRAIN_KEYS for x in flat(t[k]))
    assert all(1 <= int(x) <= len(evl) for k in EVAL_KEYS for x in e[k])


def test_invalid_json_lines_fail(oracle):
    train = read_lines("train.jsonl")
    for ln in oracle["train.jsonl"]["invalid_json"]:
        with pytest.raises(json.JSONDecodeError):
            json.loads(train[ln - 1])


def test_not_object_lines(oracle):
    train = read_lines("train.jsonl")
    for ln in oracle["train.jsonl"]["not_object"]:
        assert not isinstance(json.loads(train[ln - 1]), dict)


def test_format_lines(oracle):
    train = read_lines("train.jsonl")
    for ln in oracle["train.jsonl"]["format"]:
        obj = json.loads(train[ln - 1])
        roles = [m["role"] for m in obj["messages"]]
        assert roles[-1] != "assistant" or any(r not in ("system", "user", "assistant") for r in roles)


def assistant_text(line: str) -> str:
    return json.loads(line)["messages"][-1]["content"]


def test_schema_invalid_lines(oracle, validator):
    train = read_lines("train.jsonl")
    for ln in oracle["train.jsonl"]["schema_invalid"]:
        content = json.loads(assistant_text(train[ln - 1]))
        assert isinstance(content, dict)
        assert not validator.is_valid(content), f"train line {ln} unexpectedly validates"


def test_not_json_and_code_fence(oracle, validator):
    train = read_lines("train.jsonl")
    for ln in oracle["train.jsonl"]["not_json"]:
        with pytest.raises(json.JSONDecodeError):
            json.loads(assistant_text(train[ln - 1]))
    for ln in oracle["train.jsonl"]["code_fence"]:
        a = assistant_text(train[ln - 1])
        m = re.fullmatch(r"```json\n(.*)\n```", a, re.DOTALL)
        assert m and validator.is_valid(json.loads(m.group(1)))


def test_duplicate_and_contradiction_groups(oracle):
    train = read_lines("train.jsonl")
    for c in oracle["train.jsonl"]["exact_duplicates"]:
        assert len({train[x - 1] for x in c}) == 1
    for c in oracle["train.jsonl"]["contradictions"]:
        msgs = [json.loads(train[x - 1])["messages"] for x in c]
        assert len({m[1]["content"] for m in msgs}) == 1
        labels = [json.loads(m[-1]["content"]) for m in msgs]
        assert len({(lab["category"], lab["priority"]) for lab in labels}) > 1
    for c in oracle["train.jsonl"]["near_duplicates"]:
        msgs = [json.loads(train[x - 1])["messages"] for x in c]
        assert len({m[-1]["content"] for m in msgs}) == 1
        assert len({m[1]["content"] for m in msgs}) == len(c)
    evl = read_lines("eval.jsonl")
    for e, ts in oracle["eval.jsonl"]["leak_exact"].items():
        assert evl[int(e) - 1] == train[ts[0] - 1]


def test_clean_rows_validate(oracle, validator):
    train, evl = read_lines("train.jsonl"), read_lines("eval.jsonl")
    planted = {x for k in TRAIN_KEYS for x in flat(oracle["train.jsonl"][k])}
    system_prompts = set()
    n_clean = 0
    for name, lines, skip in (("train", train, planted), ("eval", evl, set())):
        for i, line in enumerate(lines, 1):
            if i in skip:
                continue
            obj = json.loads(line)
            assert [m["role"] for m in obj["messages"]] == ["system", "user", "assistant"], (name, i)
            system_prompts.add(obj["messages"][0]["content"])
            content = obj["messages"][2]["content"]
            label = json.loads(content)
            assert validator.is_valid(label), (name, i, content)
            assert len(re.findall(r"\w+", obj["messages"][1]["content"])) >= 25, (name, i)
            assert len(label["summary"].split()) >= 6, (name, i)
            if name == "train":
                n_clean += 1
    assert len(system_prompts) == 1
    assert n_clean >= 560
