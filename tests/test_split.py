"""`auditor split`: whole groups on one side, no leak left (where a random split leaks), label shares
kept, the same files for the same seed, and inputs never touched."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import pytest

from auditor.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _run(capsys, *args):
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


def _leaks(capsys, train, eval):
    with pytest.raises(SystemExit):
        main(["audit", str(train), "--eval", str(eval), "--select", "leakage", "--no-cache", "-q", "--min-examples", "1",
              "--min-eval-examples", "1", "--report", "json", "--output", "-"])
    report = json.loads(capsys.readouterr().out)
    return next(r for r in report["results"] if r["check"] == "leakage")["excluded_rows"]


def _grouped_rows():
    """Unique rows of random words, with near-duplicate clusters, prompts asked twice and conversations."""
    rng = random.Random(7)
    words = [f"w{rng.randrange(10**6):06d}" for _ in range(3000)]
    labels = ["billing", "shipping", "refund", "account"]

    def ticket():
        return " ".join(rng.choice(words) for _ in range(40))

    rows = [{"prompt": ticket(), "completion": json.dumps({"category": labels[i % 4]}), "conv": f"c{i}"}
            for i in range(240)]
    for cluster in range(30):  # rows 0..89: clusters of three, each one word from the first (0.85 similar)
        base = rows[cluster * 3]["prompt"].split()
        for k in (1, 2):
            edited = list(base)
            edited[(10, 30)[k - 1]] = rng.choice(words)
            rows[cluster * 3 + k]["prompt"] = " ".join(edited)
            rows[cluster * 3 + k]["completion"] = rows[cluster * 3]["completion"]
    for pair in range(10):  # rows 90..109: the same prompt twice, each with its own answer
        rows[91 + pair * 2]["prompt"] = rows[90 + pair * 2]["prompt"]
    for conv in range(5):  # rows 110..129: conversations of four rows that must stay together
        for k in range(4):
            rows[110 + conv * 4 + k]["conv"] = f"conversation-{conv}"
    return rows


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_a_split_keeps_groups_together_and_leaks_nothing_where_a_random_split_leaks(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rows = _grouped_rows()
    _write(tmp_path / "all.jsonl", rows)
    before = hashlib.sha256((tmp_path / "all.jsonl").read_bytes()).hexdigest()

    rng = random.Random(3)
    held = set(rng.sample(range(len(rows)), 48))
    _write(tmp_path / "r-train.jsonl", [r for i, r in enumerate(rows) if i not in held])
    _write(tmp_path / "r-eval.jsonl", [r for i, r in enumerate(rows) if i in held])
    assert _leaks(capsys, "r-train.jsonl", "r-eval.jsonl") > 0  # the plain random split leaks

    code, out, err = _run(capsys, "split", "all.jsonl", "--eval-size", "0.2", "--group-by", "conv",
                          "--stratify", "response.category", "--output-dir", "out", "--no-cache")
    assert code == 0, err
    assert hashlib.sha256((tmp_path / "all.jsonl").read_bytes()).hexdigest() == before
    train = (tmp_path / "out" / "train.jsonl").read_text().splitlines()
    held_out = (tmp_path / "out" / "eval.jsonl").read_text().splitlines()
    lines = (tmp_path / "all.jsonl").read_text().splitlines()
    assert sorted(train + held_out) == sorted(lines)  # every row once, byte for byte
    assert abs(len(held_out) - 48) <= 4  # the size within one group
    assert _leaks(capsys, "out/train.jsonl", "out/eval.jsonl") == 0
    side = {line: "eval" for line in held_out} | {line: "train" for line in train}
    groups = [[c * 3, c * 3 + 1, c * 3 + 2] for c in range(30)] + [[90 + p * 2, 91 + p * 2] for p in range(10)] \
        + [[110 + c * 4 + k for k in range(4)] for c in range(5)]
    for group in groups:
        assert len({side[lines[i]] for i in group}) == 1, group
    for label in ("billing", "shipping", "refund", "account"):  # shares within 2 points of the whole
        whole = sum(label in line for line in lines) / len(lines)
        assert abs(sum(label in line for line in held_out) / len(held_out) - whole) < 0.02
    assert "no leak left" in out


def test_the_same_seed_gives_the_same_files_and_another_seed_another_split(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "all.jsonl", _grouped_rows())
    outputs = []
    for folder, seed in (("a", "1"), ("b", "1"), ("c", "2")):
        code, _, err = _run(capsys, "split", "all.jsonl", "--eval-size", "40", "--seed", seed, "--output-dir", folder,
                            "--no-cache", "-q")
        assert code == 0, err
        outputs.append((tmp_path / folder / "eval.jsonl").read_bytes())
    assert outputs[0] == outputs[1] and outputs[0] != outputs[2]


def test_split_refuses_a_folder_with_files_a_bad_size_and_more_than_one_input(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "all.jsonl", _grouped_rows()[:50])
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("x")
    code, _, err = _run(capsys, "split", "all.jsonl", "--eval-size", "5", "--output-dir", "out", "--no-cache")
    assert code == 2 and "not empty; pass --force" in err
    code, _, err = _run(capsys, "split", "all.jsonl", "--eval-size", "50", "--output-dir", "new", "--no-cache")
    assert code == 2 and "both sides need rows" in err
    code, _, err = _run(capsys, "split", "all.jsonl", "--eval-size", "5", "--output-dir", ".", "--force", "--no-cache")
    assert code == 0, err  # train.jsonl and eval.jsonl are new names beside the input, which stays
    assert len((tmp_path / "all.jsonl").read_text().splitlines()) == 50


def test_the_cleaned_sample_data_splits_leak_free_with_label_shares_kept(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT / "sample_data")
    code, _, err = _run(capsys, "clean", "train.jsonl", "--schema", "schema.json", "--output-dir",
                        str(tmp_path / "clean"), "--no-cache", "-q")
    assert code == 0, err
    code, _, err = _run(capsys, "split", str(tmp_path / "clean" / "train.jsonl"), "--eval-size", "0.15",
                        "--stratify", "response.category", "--output-dir", str(tmp_path / "split"), "--no-cache", "-q")
    assert code == 0, err
    assert _leaks(capsys, tmp_path / "split" / "train.jsonl", tmp_path / "split" / "eval.jsonl") == 0

    def shares(path):
        categories = [json.loads(json.loads(line)["messages"][-1]["content"])["category"]
                      for line in path.read_text().splitlines()]
        return {c: categories.count(c) / len(categories) for c in set(categories)}, len(categories)

    whole, total = shares(tmp_path / "clean" / "train.jsonl")
    held, size = shares(tmp_path / "split" / "eval.jsonl")
    assert abs(size - round(0.15 * total)) <= 5
    assert all(abs(held.get(c, 0.0) - share) < 0.02 for c, share in whole.items())


def test_the_python_call_gives_the_rows_the_command_writes(tmp_path, capsys, monkeypatch):
    import auditor

    monkeypatch.chdir(tmp_path)
    rows = _grouped_rows()
    _write(tmp_path / "all.jsonl", rows)
    code, _, err = _run(capsys, "split", "all.jsonl", "--eval-size", "30", "--output-dir", "cli", "--no-cache", "-q")
    assert code == 0, err
    result = auditor.split("all.jsonl", 30, output_dir=tmp_path / "api", config=False)
    lines = (tmp_path / "all.jsonl").read_text().splitlines()
    assert [lines[i] for i in result.eval_rows] == (tmp_path / "cli" / "eval.jsonl").read_text().splitlines()
    assert (tmp_path / "api" / "train.jsonl").read_bytes() == (tmp_path / "cli" / "train.jsonl").read_bytes()
    with pytest.raises(auditor.ConfigError, match="split takes a file"):
        auditor.split(rows, 0.1)


def test_a_parquet_input_is_split_into_parquet_files_that_leak_nothing(tmp_path, capsys, monkeypatch):
    import polars as pl

    monkeypatch.chdir(tmp_path)
    rows = _grouped_rows()
    pl.DataFrame(rows).write_parquet(tmp_path / "all.parquet")
    code, _, err = _run(capsys, "split", "all.parquet", "--eval-size", "0.2", "--output-dir", "out", "--no-cache", "-q")
    assert code == 0, err
    train, held = pl.read_parquet(tmp_path / "out" / "train.parquet"), pl.read_parquet(tmp_path / "out" / "eval.parquet")
    assert sorted(train.to_dicts() + held.to_dicts(), key=str) == sorted(rows, key=str)
    assert _leaks(capsys, "out/train.parquet", "out/eval.parquet") == 0


def test_rows_that_only_share_a_phrase_may_sit_on_both_sides(tmp_path, capsys, monkeypatch):
    # found on BANKING77: the leakage check's note on rows sharing one phrase (no leak) is not a leak
    monkeypatch.chdir(tmp_path)
    rng = random.Random(11)
    words = [f"v{rng.randrange(10**6):06d}" for _ in range(4000)]
    rows = []
    for _pair in range(60):
        phrase = [rng.choice(words) for _ in range(14)]
        for _ in range(2):
            text = [rng.choice(words) for _ in range(25)] + phrase + [rng.choice(words) for _ in range(25)]
            rows.append({"prompt": " ".join(text), "completion": f"answer {len(rows)}"})
    _write(tmp_path / "all.jsonl", rows)
    code, out, err = _run(capsys, "split", "all.jsonl", "--eval-size", "0.3", "--output-dir", "out", "--no-cache")
    assert code == 0, err
    assert "in 120 groups" in out  # a shared phrase groups nothing
    with pytest.raises(SystemExit):
        main(["audit", "out/train.jsonl", "--eval", "out/eval.jsonl", "--select", "leakage", "--no-cache", "-q",
              "--min-examples", "1", "--min-eval-examples", "1", "--report", "json", "--output", "-"])
    leakage = next(r for r in json.loads(capsys.readouterr().out)["results"] if r["check"] == "leakage")
    assert leakage["excluded_rows"] == 0 and {f["code"] for f in leakage["findings"]} == {"LEAK005"}
