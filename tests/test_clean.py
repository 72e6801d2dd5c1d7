"""`auditor clean` and `Audit.write_clean`: exactly the clean rows, byte for byte, why each other row went,
a clean set that audits clean again, and inputs never touched."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
from pathlib import Path

import polars as pl
import pytest

import auditor
from auditor.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
POLICY = ["-o", "language.languages=en", "-o", "language.exclude=true"]


def _run(capsys, *args):
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


def _audit_json(capsys, *args):
    code, out, err = _run(capsys, "audit", *args, "--no-cache", "-q", "--report", "json", "--output", "-")
    assert code in (0, 1), err
    return json.loads(out)


def _digests(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def _planted_removals():
    """What clean must remove from sample_data: every planted row but the kept first of a duplicate group."""
    readme = (SAMPLE / "README.md").read_text()
    oracle = json.loads(re.search(r"<!-- planted:begin -->\n```json\n(.*?)```", readme, re.S).group(1))
    expected = set()
    for path, categories in oracle.items():
        for category, items in categories.items():
            if isinstance(items, dict):  # eval leaks: {eval line: [train lines]}
                expected |= {(path, int(line)) for line in items}
                continue
            for item in items:
                group = item if isinstance(item, list) else [item]
                kept_first = category in ("exact_duplicates", "near_duplicates")
                expected |= {(path, line) for line in (group[1:] if kept_first else group)}
    return expected


def test_clean_removes_exactly_the_planted_problems_and_the_result_audits_clean(tmp_path, capsys, monkeypatch):
    work = tmp_path / "data"
    shutil.copytree(SAMPLE, work)
    monkeypatch.chdir(work)
    before = _digests(work)
    code, out, err = _run(capsys, "clean", "train.jsonl", "--eval", "eval.jsonl", "--schema", "schema.json",
                          "--output-dir", str(tmp_path / "out"), "--no-cache", *POLICY)
    assert code == 0, err
    assert _digests(work) == before  # no input touched
    removed = [json.loads(line) for line in (tmp_path / "out" / "removed.jsonl").read_text().splitlines()]
    assert {(r["path"], r["line"]) for r in removed} == _planted_removals()
    leak = next(r for r in removed if (r["path"], r["line"]) == ("eval.jsonl", 22))
    assert leak["removed_by"] == [{"check": "leakage", "codes": ["LEAK001"]}]
    assert leak["related"] == [{"path": "train.jsonl", "line": 234}]  # the train row it leaks from
    duplicate = next(r for r in removed if (r["path"], r["line"]) == ("train.jsonl", 128))
    assert duplicate["removed_by"] == [{"check": "exact-duplicates", "codes": ["DUP001"]}]
    assert duplicate["related"] == [{"path": "train.jsonl", "line": 33}]  # the kept original
    assert "train.jsonl" in out and "607" in out and "removed by check" in out
    # the fixed point: the clean set has nothing left to remove
    again = _audit_json(capsys, str(tmp_path / "out" / "train.jsonl"), "--eval", str(tmp_path / "out" / "eval.jsonl"),
                        "--schema", "schema.json", *POLICY)
    assert [r["check"] for r in again["results"] if r["excluded_rows"]] == []
    assert [i["invalid_lines"] for i in again["inputs"]] == [[], []]
    assert again["verdict"]["clean_examples"] == again["verdict"]["valid_examples"] == 607


def _every_problem():
    """A set with a problem of every kind that removes rows, and odd bytes on the rows that stay."""
    def row(i, answer=None):
        return {"messages": [{"role": "user", "content": f"Ticket {i}: my order number {i * 7} never arrived at all"},
                             {"role": "assistant", "content": answer or f"Sorry, order {i * 7} is being traced."}]}
    lines = [json.dumps(row(i)) for i in range(30)]
    lines[3] = '{ "messages" :[{"content":"Ticket 3: my order number 21 never arrived at all","role":"user"},' \
               ' {"role":"assistant","content":"Sorry, order 21 is being traced."}]  }'  # odd spacing, key order
    lines[8] = lines[4]  # exact duplicate of line 5
    lines[12] = "{not json"
    lines[15] = json.dumps(row(15, '{"category": "refund"}'))  # contradicts line 17 (same prompt)
    lines[16] = json.dumps(row(15, '{"category": "shipping"}'))
    lines[20] = ""  # a blank line
    lines[22] = json.dumps({"messages": [{"role": "user", "content": "hi"}]})  # no assistant turn
    return lines


def test_kept_lines_are_byte_identical_with_a_bom_crlf_and_odd_spacing(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lines = _every_problem()
    data = b"\xef\xbb\xbf" + b"\r\n".join(line.encode() for line in lines)  # CRLF, no newline at the end
    (tmp_path / "t.jsonl").write_bytes(data)
    code, _, err = _run(capsys, "clean", "t.jsonl", "--output-dir", "out", "--no-cache", "-q",
                        "--select", "exact-duplicates,contradictions,format")
    assert code == 0, err
    removed = {json.loads(line)["line"] for line in (tmp_path / "out" / "removed.jsonl").read_text().splitlines()}
    assert removed == {9, 13, 16, 17, 21, 23}
    raw = data[3:].split(b"\r\n")
    expected = b"\xef\xbb\xbf" + b"\r\n".join(raw[i] for i in range(30) if i + 1 not in removed)
    assert (tmp_path / "out" / "t.jsonl").read_bytes() == expected
    again = _audit_json(capsys, "out/t.jsonl", "--select", "exact-duplicates,contradictions,format")
    assert [r["excluded_rows"] for r in again["results"]] == [0, 0, 0, 0] and again["inputs"][0]["invalid_lines"] == []


def test_gzip_parquet_csv_and_tables_are_written_in_their_own_format(tmp_path, capsys, monkeypatch):
    import gzip

    monkeypatch.chdir(tmp_path)
    rows = [{"prompt": f"question {i} about apples", "completion": f"answer {i}"} for i in range(20)]
    rows[7] = dict(rows[2])
    (tmp_path / "t.jsonl.gz").write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in rows).encode()))
    pl.DataFrame(rows).write_parquet(tmp_path / "t.parquet")
    with open(tmp_path / "t.csv", "w", newline="") as out:
        writer = csv.DictWriter(out, ["prompt", "completion"])
        writer.writeheader()
        writer.writerows(rows)
    kept = [r for i, r in enumerate(rows) if i != 7]
    for name in ("t.jsonl.gz", "t.parquet", "t.csv"):
        code, _, err = _run(capsys, "clean", name, "--output-dir", f"out-{name}", "--no-cache", "-q",
                            "--select", "exact-duplicates")
        assert code == 0, err
        written = tmp_path / f"out-{name}" / name
        if name.endswith(".gz"):
            assert [json.loads(line) for line in gzip.decompress(written.read_bytes()).splitlines()] == kept
        elif name.endswith(".parquet"):
            assert pl.read_parquet(written).to_dicts() == kept
        else:
            assert list(csv.DictReader(open(written, newline=""))) == kept
    result = auditor.audit(pl.DataFrame(rows), select="exact-duplicates", min_examples=5, config=False)
    summary = result.write_clean(tmp_path / "api")
    assert summary.kept == {"train": 19} and summary.removed_by_check == {"exact-duplicates": 1}
    assert [json.loads(line) for line in (tmp_path / "api" / "train.jsonl").read_text().splitlines()] == kept


def test_clean_refuses_a_folder_with_files_and_never_writes_over_an_input(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "t.jsonl").write_text("".join(line + "\n" for line in _every_problem() if line))
    before = _digests(tmp_path)
    code, _, err = _run(capsys, "clean", "t.jsonl", "--output-dir", ".", "--no-cache", "-q")
    assert code == 2 and "not empty; pass --force" in err
    code, _, err = _run(capsys, "clean", "t.jsonl", "--output-dir", ".", "--force", "--no-cache", "-q")
    assert code == 2 and "is the input t.jsonl" in err and len(err.strip().splitlines()) == 1
    code, _, err = _run(capsys, "clean", "t.jsonl", "--no-cache", "-q")
    assert code == 2 and "--output-dir" in err
    assert _digests(tmp_path) == before
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "old.txt").write_text("x")
    code, _, err = _run(capsys, "clean", "t.jsonl", "--output-dir", "out", "--force", "--no-cache", "-q")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["old.txt", "removed.jsonl", "t.jsonl"]


def test_a_file_changed_after_its_audit_is_refused(tmp_path, monkeypatch):
    from auditor.clean import write_clean

    monkeypatch.chdir(tmp_path)
    (tmp_path / "t.jsonl").write_text("".join(json.dumps({"prompt": f"q{i}", "completion": f"a{i}"}) + "\n"
                                              for i in range(10)))
    result = auditor.audit("t.jsonl", select="count", min_examples=1, config=False)
    (tmp_path / "t.jsonl").write_text((tmp_path / "t.jsonl").read_text().replace("q3", "q4"))
    with pytest.raises(auditor.DatasetLoadError, match="changed since it was audited"):
        write_clean(result.report, tmp_path / "out")
    assert not (tmp_path / "out" / "t.jsonl").exists()  # nothing half-written


def test_clean_after_an_audit_reuses_the_cached_audit(tmp_path, capsys, monkeypatch):
    import auditor.engine

    monkeypatch.chdir(tmp_path)
    (tmp_path / "t.jsonl").write_text("".join(line + "\n" for line in _every_problem() if line))
    code, _, err = _run(capsys, "audit", "t.jsonl", "--cache-dir", "cache", "-q", "--select", "exact-duplicates")
    assert code == 1, err

    def no_second_audit(*args, **kwargs):
        raise AssertionError("the audit ran again")

    monkeypatch.setattr(auditor.engine, "_audit", no_second_audit)
    code, _, err = _run(capsys, "clean", "t.jsonl", "--cache-dir", "cache", "-q", "--select", "exact-duplicates",
                        "--output-dir", "out")
    assert code == 0, err
    assert [json.loads(line)["line"] for line in (tmp_path / "out" / "removed.jsonl").read_text().splitlines()] == \
        [9, 13, 22]
