"""Inputs that are not JSONL files: every kind gives the same findings (by record) and verdict as JSONL."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import polars as pl
import pytest

from auditor.cli import main


def _records(n=60):
    rows = [{"prompt": f"Question {i}: how many apples does person {i} have,\nwith a line break?",
             "completion": f"They have {i} apples, counted \"twice\", tab\there."} for i in range(n)]
    rows[10] = dict(rows[3])  # an exact duplicate: lines 4 and 11
    return rows


def _write_all(folder, rows):
    (folder / "t.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / "t.json").write_text(json.dumps(rows, indent=1))
    for name, delimiter in (("t.csv", ","), ("t.tsv", "\t")):
        with open(folder / name, "w", newline="", encoding="utf-8") as out:
            writer = csv.DictWriter(out, ["prompt", "completion"], delimiter=delimiter, lineterminator="\r\n")
            writer.writeheader()
            writer.writerows(rows)
    frame = pl.DataFrame(rows)
    frame.write_parquet(folder / "t.parquet", row_group_size=7)  # several row groups
    frame.write_ipc(folder / "t.arrow")
    hf = folder / "hf"
    hf.mkdir()
    frame.write_ipc_stream(hf / "data-00000-of-00001.arrow")  # what datasets' save_to_disk writes
    (hf / "state.json").write_text(json.dumps({"_data_files": [{"filename": "data-00000-of-00001.arrow"}]}))
    (hf / "dataset_info.json").write_text("{}")


def _report(capsys, *args):
    with pytest.raises(SystemExit) as exc:
        main(["audit", *args, "--no-cache", "-q", "--min-examples", "5", "--report", "json", "--output", "-"])
    out, err = capsys.readouterr()
    assert exc.value.code in (0, 1), err
    return json.loads(out)


def _findings(report):
    return sorted((f["code"], f["line"], tuple(r["line"] for r in f["related"]))
                  for result in report["results"] for f in result["findings"])


@pytest.mark.parametrize("name,kind", [("t.json", "json"), ("t.csv", "csv"), ("t.tsv", "tsv"),
                                       ("t.parquet", "parquet"), ("t.arrow", "arrow"), ("hf", "hf")])
def test_every_input_kind_gives_the_findings_and_verdict_of_jsonl(tmp_path, capsys, monkeypatch, name, kind):
    _write_all(tmp_path, _records())
    monkeypatch.chdir(tmp_path)
    expected = _report(capsys, "t.jsonl")
    assert ("DUP001", 4, (11,)) in _findings(expected)
    report = _report(capsys, name)
    assert _findings(report) == _findings(expected)
    assert report["verdict"] == expected["verdict"]
    (entry,) = report["inputs"]
    assert entry["input_format"] == kind and entry["unit"] == "record" and entry["lines"] == 60
    assert "input_format" not in expected["inputs"][0]  # JSONL reports keep their shape


def test_record_inputs_point_at_rows_and_sarif_has_no_region_for_them(tmp_path, capsys, monkeypatch):
    _write_all(tmp_path, _records())
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit):
        main(["audit", "t.csv", "--no-cache"])
    assert "t.csv:row 4: warning DUP001 exact-duplicates" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["audit", "t.parquet", "--no-cache", "-q", "--report", "sarif", "--output", "-"])
    (result,) = [r for r in json.loads(capsys.readouterr().out)["runs"][0]["results"] if r["ruleId"] == "DUP001"]
    assert "region" not in result["locations"][0]["physicalLocation"] and result["properties"]["row"] == 4


def test_a_file_whose_content_contradicts_its_extension_is_one_line_exit_2(tmp_path, capsys, monkeypatch):
    _write_all(tmp_path, _records())
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data.jsonl").write_bytes((tmp_path / "t.parquet").read_bytes())
    (tmp_path / "table.jsonl").write_text("a,b\n1,2\n3,4\n")
    for name, seen in (("data.jsonl", "parquet"), ("table.jsonl", "csv")):
        with pytest.raises(SystemExit) as exc:
            main(["audit", name, "--no-cache", "-q"])
        err = capsys.readouterr().err
        assert exc.value.code == 2
        assert err == f"auditor: error: {name}: not JSONL; it looks like {'Parquet' if seen == 'parquet' else 'CSV'}: " \
                      f"pass --input-format {seen}\n"
    # a JSONL file with a broken first line is still audited: the line is a finding, not a refusal
    (tmp_path / "broken.jsonl").write_text("oops, not json\n" + "".join(json.dumps(r) + "\n" for r in _records()))
    report = _report(capsys, "broken.jsonl")
    assert ("AUD001", 1, ()) in _findings(report)


def test_standard_input_keeps_every_line_of_a_large_pipe(tmp_path):
    rows = _records(2000)  # about 250 KB: more than any pipe buffer or sniffed head
    data = "".join(json.dumps(r) + "\n" for r in rows).encode()
    assert len(data) > 64 * 1024
    command = [sys.executable, "-m", "auditor", "audit", "-", "--no-cache", "-q", "--report", "json",
               "--output", str(tmp_path / "r.json")]
    done = subprocess.run(command, input=data, capture_output=True)
    assert done.returncode == 1, done.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["inputs"][0]["path"] == "<stdin>" and report["inputs"][0]["lines"] == 2000
    assert report["inputs"][0]["valid"] == 2000
    parquet = tmp_path / "t.parquet"
    pl.DataFrame(rows).write_parquet(parquet)
    done = subprocess.run([*command[:4], "-", "--input-format", "parquet", *command[5:]],
                          input=parquet.read_bytes(), capture_output=True)
    assert done.returncode == 1, done.stderr
    assert json.loads((tmp_path / "r.json").read_text())["inputs"][0]["lines"] == 2000


def test_quoted_globs_name_their_files_in_sorted_order(tmp_path, capsys, monkeypatch):
    rows = _records()
    monkeypatch.chdir(tmp_path)
    for i in (2, 1):
        (tmp_path / f"part-{i}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[i * 20:i * 20 + 20]))
    report = _report(capsys, "part-*.jsonl")
    assert [i["path"] for i in report["inputs"]] == ["part-1.jsonl", "part-2.jsonl"]


def test_a_glob_matching_nothing_is_file_not_found_and_a_bracketed_name_is_itself(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["audit", "nothing-*.jsonl", "--no-cache"])
    assert exit_info.value.code == 2 and "nothing-*.jsonl: file not found" in capsys.readouterr().err
    rows = _records()
    (tmp_path / "data[1].jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[:20]))
    (tmp_path / "data1.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[20:30]))
    report = _report(capsys, "data[1].jsonl")
    assert [(i["path"], i["lines"]) for i in report["inputs"]] == [("data[1].jsonl", 20)]


def test_csv_cells_beyond_the_header_are_kept_and_a_datasetdict_folder_says_what_to_pass(tmp_path, capsys,
                                                                                         monkeypatch):
    from auditor.input.readers import _delimited, input_format

    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.csv").write_text('prompt,completion\n"a, b","c\nd",extra\n')
    assert [json.loads(line) for line in _delimited("x.csv", ",")] == [
        {"prompt": "a, b", "completion": "c\nd", "_extra": ["extra"]}]
    (tmp_path / "dd" / "train").mkdir(parents=True)
    (tmp_path / "dd" / "dataset_dict.json").write_text('{"splits": ["train"]}')
    with pytest.raises(Exception, match=r"a Hugging Face DatasetDict with splits train; pass one split's folder"):
        input_format("dd")


def test_a_zstandard_file_reads_as_its_lines_and_a_bomb_or_damage_is_one_line(tmp_path, capsys, monkeypatch):
    zstandard = pytest.importorskip("zstandard")
    monkeypatch.chdir(tmp_path)
    rows = _records()
    data = "".join(json.dumps(r) + "\n" for r in rows).encode()
    (tmp_path / "t.jsonl").write_bytes(data)
    (tmp_path / "t.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(data))
    plain, packed = _report(capsys, "t.jsonl"), _report(capsys, "t.jsonl.zst")
    assert [(f["line"], f["code"]) for r in packed["results"] for f in r["findings"]] == \
        [(f["line"], f["code"]) for r in plain["results"] for f in r["findings"]]
    assert packed["verdict"] == plain["verdict"] and packed["inputs"][0]["lines"] == 60
    (tmp_path / "bomb.jsonl.zst").write_bytes(zstandard.ZstdCompressor(level=19).compress(b"\n" * 50_000_000))
    packed_bytes = zstandard.ZstdCompressor().compress(data)
    (tmp_path / "cut.jsonl.zst").write_bytes(packed_bytes[: len(packed_bytes) // 2])  # a cut download
    (tmp_path / "bad.jsonl.zst").write_bytes(packed_bytes[:20] + b"garbage" * 40 + packed_bytes[20:])
    for name, said in (("bomb.jsonl.zst", "a decompression bomb"), ("cut.jsonl.zst", "ends inside a Zstandard frame"),
                       ("bad.jsonl.zst", "damaged compressed data")):
        with pytest.raises(SystemExit) as exit_info:
            main(["audit", name, "--no-cache", "-q"])
        err = capsys.readouterr().err
        assert exit_info.value.code == 2 and said in err and len(err.strip().splitlines()) == 1, err
    monkeypatch.setitem(sys.modules, "zstandard", None)  # the zstd extra not installed
    with pytest.raises(SystemExit) as exit_info:
        main(["audit", "t.jsonl.zst", "--no-cache", "-q"])
    assert exit_info.value.code == 2 and "install the zstd extra" in capsys.readouterr().err


def test_the_fast_frame_writer_writes_what_one_orjson_line_per_row_writes():
    import io

    from auditor.input.readers import _frames_as_lines, write_frame

    frame = pl.DataFrame({"a": [1.5, None, 1e20, float("nan"), -0.0], "b": ["x\u2028y\n", "é\"\\", "\x00\x1f", "<>&'", ""],
                          "c": [[1, 2], None, [], [3], [None]], "e": [True, False, None, True, False],
                          "d": [{"x": 1, "y": "s"}, None, {"x": None, "y": None}, {"x": 2, "y": "\t"}, {"x": 3, "y": "z"}]})
    fast = io.BytesIO()
    write_frame(frame, fast)
    assert fast.getvalue() == b"".join(line + b"\n" for line in _frames_as_lines([frame]))
    dated = frame.with_columns(when=pl.date(2024, 1, 2))  # not plain JSON: the per-row writer's text
    out = io.BytesIO()
    write_frame(dated, out)
    assert out.getvalue().splitlines()[0].endswith(b'"when":"2024-01-02"}')


def test_a_columnar_file_is_parsed_while_a_thread_still_writes_its_spool(tmp_path, monkeypatch):
    import threading
    import time

    from auditor.errors import DatasetLoadError
    from auditor.input import readers
    from auditor.input.dataset import load_input

    rows = _records(120)
    pl.DataFrame(rows).write_parquet(tmp_path / "t.parquet")
    slices = [pl.DataFrame(rows[i:i + 25]) for i in range(0, 120, 25)]

    def slow(path):  # the loader must wait for every slice, never take a pause for the end
        for frame in slices:
            time.sleep(0.05)
            yield frame

    monkeypatch.setitem(readers._BATCHES, "parquet", slow)
    spools = tmp_path / "spools"
    spools.mkdir()
    data = load_input(str(tmp_path / "t.parquet"), "train", spool_dir=str(spools))
    assert data.frame.height == 120 and data.frame["prompt"].to_list() == [r["prompt"] for r in rows]
    assert data.sha256 == __import__("hashlib").sha256(open(data.read_path, "rb").read()).hexdigest()
    assert [line for _, line, _ in data.records()] == list(range(1, 121))

    def broken(path):
        yield slices[0]
        time.sleep(0.05)
        raise OSError("Parquet magic bytes not found in footer")

    monkeypatch.setitem(readers._BATCHES, "parquet", broken)
    with pytest.raises(DatasetLoadError, match=r"t\.parquet: cannot read as Parquet: Parquet magic bytes not found"):
        load_input(str(tmp_path / "t.parquet"), "train", spool_dir=str(spools))
    assert not [t for t in threading.enumerate() if t.name == "auditor-spool"]


def test_a_damaged_parquet_file_is_one_line_exit_2(tmp_path, capsys, monkeypatch):
    _write_all(tmp_path, _records())
    monkeypatch.chdir(tmp_path)
    data = (tmp_path / "t.parquet").read_bytes()
    (tmp_path / "cut.parquet").write_bytes(data[: len(data) // 2] + data[-8:])  # a footer pointing nowhere
    with pytest.raises(SystemExit) as exc:
        main(["audit", "cut.parquet", "--no-cache", "-q"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.startswith("auditor: error: cut.parquet: cannot read as Parquet: ")
    assert err.count("\n") == 1
