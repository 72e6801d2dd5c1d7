import hashlib
import json
import subprocess
import sys

import pytest
from conftest import distinct_chats, run_cli

from auditor.cli import main


def test_ready_dataset_exits_0(make_files, capsys):
    train, eval = make_files(distinct_chats(30), distinct_chats(10, start=100))
    code, out, err = run_cli(["audit", train, "--eval", eval, "--min-examples", "30", "--min-eval-examples", "10",
                          "--select", "count,format"], capsys)
    assert code == 0, out
    assert out.startswith("READY: 30 clean training examples (30 required), 10 clean eval examples (10 required)")


def test_not_enough_examples_exits_1_with_the_reason(make_files, capsys):
    train, eval = make_files(distinct_chats(30), distinct_chats(10, start=100))
    code, out, _ = run_cli(["audit", train, "--eval", eval, "--min-eval-examples", "10"], capsys)
    assert code == 1
    assert out.splitlines()[:2] == ["NOT READY: 30 clean training examples (500 required), "
                                    "10 clean eval examples (10 required)",
                                    "  - 30 clean training examples, 500 required"]


def test_broken_lines_are_reported_as_path_line_findings(make_files, capsys):
    records = distinct_chats(5)
    records[1] = '{"messages": [oops'
    (train,) = make_files(records)
    code, out, _ = run_cli(["audit", train, "--min-examples", "1"], capsys)
    assert code == 1
    assert f"{train}:2: error AUD001 input: invalid JSON: expecting value at column 15" in out


@pytest.mark.parametrize("setup, expected", [
    (lambda p: str(p / "missing.jsonl"), "file not found"),
    (lambda p: str(p), "is a directory"),
    (lambda p: (p.joinpath("b.jsonl").write_bytes(bytes(range(256)) * 40), str(p / "b.jsonl"))[1], "binary"),
], ids=["missing", "directory", "binary"])
def test_unusable_input_exits_2_with_one_line(tmp_path, capsys, setup, expected):
    code, out, err = run_cli(["audit", setup(tmp_path)], capsys)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and expected in err and "Traceback" not in err


def test_unknown_config_key_exits_2_naming_the_key(make_files, tmp_path, capsys, monkeypatch):
    (train,) = make_files(distinct_chats(3))
    (tmp_path / "pyproject.toml").write_text("[tool.auditor]\nmin_exmaples = 3\n")
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(["audit", train], capsys)
    assert code == 2
    assert err.strip().endswith("(known: cache, cache_dir, checks, datasets, decision, engine, eval, fail_on, fail_on_added, fields, "
                                "format, gate, ignore, input_format, max_expansion, max_findings, max_line_bytes, max_memory, "
                                "min_eval_examples, min_examples, ray_address, schema, seed, select, task, train, workers)")
    assert "unknown key 'tool.auditor.min_exmaples'" in err and len(err.strip().splitlines()) == 1


def test_unknown_check_option_exits_2(make_files, capsys):
    (train,) = make_files(distinct_chats(3))
    code, _, err = run_cli(["audit", train, "-o", "count.min_per_lable=3"], capsys)
    assert code == 2 and "check 'count' has no option 'min_per_lable' (options: min_per_label)" in err


@pytest.mark.parametrize("args, message", [
    (["--bogus"], "No such option: --bogus"),
    (["--report", "json"], "each --report needs its own --output"),
    (["--report", "pdf", "--output", "x"], "unknown report format 'pdf'"),
    (["--format", "csv"], "'format' must be one of chat"),
    (["--select", "nope"], "unknown check 'nope'"),
    (["--min-examples", "-3"], "'min_examples' must be a whole number >= 0"),
])
def test_bad_options_exit_2_with_one_line(make_files, capsys, args, message):
    (train,) = make_files(distinct_chats(3))
    code, out, err = run_cli(["audit", train, *args], capsys)
    assert code == 2, err
    assert message in err and len(err.strip().splitlines()) == 1


def test_config_is_found_by_walking_up_and_cli_overrides_it(make_files, tmp_path, capsys, monkeypatch):
    train, eval = make_files(distinct_chats(20), distinct_chats(5, start=50))
    (tmp_path / "auditor.toml").write_text(
        'train = "train.jsonl"\neval = ["eval.jsonl"]\nmin_examples = 20\nmin_eval_examples = 5\n'
        '[checks.count]\nmin_per_label = 2\n[decision]\nprompting_tried = true\n')
    sub = tmp_path / "deep" / "er"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    code, out, _ = run_cli(["audit", "--report", "json", "--output", "-", "-q"], capsys)
    report = json.loads(out)
    assert code == 0
    assert report["settings"]["config_file"] == str(tmp_path / "auditor.toml")
    assert [i["path"] for i in report["inputs"]] == ["../../train.jsonl", "../../eval.jsonl"]
    checklist = {item["id"]: item["answer"] for item in report["verdict"]["checklist"]}
    assert checklist["prompting_tried"] == "yes" and checklist["task_stable"] == "unanswered"
    code, out, _ = run_cli(["audit", "--min-examples", "21", "-q", "--report", "json", "--output", "-"], capsys)
    assert code == 1 and json.loads(out)["verdict"]["min_examples"] == 21


def test_json_report_to_stdout_moves_the_summary_to_stderr(make_files, capsys):
    (train,) = make_files(distinct_chats(3))
    code, out, err = run_cli(["audit", train, "--report", "json", "--output", "-"], capsys)
    report = json.loads(out)
    assert report["schema_version"] == 1 and report["verdict"]["status"] == "not_ready"
    assert err.startswith("NOT READY")


def test_same_input_gives_byte_identical_reports(make_files, tmp_path, capsys):
    records = distinct_chats(20)
    records[4] = "not json"
    train, eval = make_files(records, distinct_chats(5, start=40))
    outputs = []
    for name in ("a.json", "b.json"):
        run_cli(["audit", train, "--eval", eval, "--report", "json", "--output", str(tmp_path / name), "-q"], capsys)
        outputs.append((tmp_path / name).read_bytes())
    assert outputs[0] == outputs[1]


def test_input_files_are_never_modified(make_files, capsys):
    records = distinct_chats(10)
    records[2] = '{"broken": '
    train, eval = make_files(records, distinct_chats(3, start=20))
    before = [hashlib.sha256(open(p, "rb").read()).hexdigest() for p in (train, eval)]
    run_cli(["audit", train, "--eval", eval], capsys)
    after = [hashlib.sha256(open(p, "rb").read()).hexdigest() for p in (train, eval)]
    assert before == after


def test_checks_and_explain(capsys):
    code, out, _ = run_cli(["checks"], capsys)
    assert code == 0
    assert any(line.startswith("count ") and "CNT001" in line for line in out.splitlines())
    code, out, _ = run_cli(["explain", "count"], capsys)
    assert code == 0 and "## Why is this bad?" in out and "`min_per_label` (int, default `10`)" in out
    code, _, err = run_cli(["explain", "nope"], capsys)
    assert code == 2 and "unknown check 'nope'" in err


def test_help_does_not_import_heavy_modules():
    code = ("import sys; from auditor.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('polars', 'numpy', 'datasketch', 'scipy') if m in sys.modules]\n"
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("[]")


def test_field_mapping_from_the_command_line(tmp_path, capsys):
    from auditor.testing import write_jsonl

    path = write_jsonl(tmp_path / "qa.jsonl", [{"question": f"q{i}", "answer": f"a{i}"} for i in range(3)])
    code, out, _ = run_cli(["audit", str(path), "--field", "prompt=question", "--field", "response=answer",
                        "--min-examples", "3", "-q", "--report", "json", "--output", "-"], capsys)
    report = json.loads(out)
    assert report["inputs"][0]["format"] == "mapped" and report["verdict"]["clean_examples"] == 3


def test_a_file_given_twice_exits_2(make_files, capsys):
    train, eval = make_files(distinct_chats(3), distinct_chats(3, start=10))
    code, _, err = run_cli(["audit", train, "--eval", eval, "--eval", eval], capsys)
    assert code == 2 and "the same file is given twice" in err
    code, _, err = run_cli(["audit", train, "--eval", train], capsys)
    assert code == 2 and "the same file is given as train and as eval" in err


def test_limits_from_the_command_line_and_the_config(make_files, tmp_path, capsys, monkeypatch):
    import gzip

    (train,) = make_files(distinct_chats(3) + [{"prompt": "p" * 500, "completion": "c"}])
    code, out, _ = run_cli(["audit", train, "--max-line-bytes", "300", "--report", "json", "--output", "-"], capsys)
    report = json.loads(out)
    found = [f for r in report["results"] for f in r["findings"] if f["line"] == 4]
    assert [f["code"] for f in found] == ["AUD001"]
    assert "longer than the 300 bytes read (max_line_bytes): not read" in found[0]["message"]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "auditor.toml").write_text("max_line_bytes = 300\nmax_expansion = 2\n")
    code, out, _ = run_cli(["audit", train, "--report", "json", "--output", "-"], capsys)
    assert json.loads(out)["results"] == report["results"]
    monkeypatch.setattr("auditor.input.loading.EXPANSION_ALLOWANCE", 10_000)
    bomb = tmp_path / "bomb.jsonl.gz"
    bomb.write_bytes(gzip.compress(b"\n" * 3_000_000))  # 3 MB of blank lines in 3 KB
    code, _, err = run_cli(["audit", str(bomb)], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "bomb.jsonl.gz: decompresses to over 2x its size" in err


@pytest.mark.parametrize("args, message", [
    (["--max-memory", "lots"], "'max_memory' must be a size such as 2GiB or 512MB, got 'lots'"),
    (["--max-line-bytes", "-1"], "'max_line_bytes' must be a whole number >= 0"),
    (["--max-expansion", "-5"], "'max_expansion' must be a whole number >= 0"),
])
def test_bad_limits_exit_2_with_one_line(make_files, capsys, args, message):
    (train,) = make_files(distinct_chats(3))
    code, _, err = run_cli(["audit", train, *args], capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_an_audit_over_max_memory_stops_with_one_line_and_writes_nothing(make_files, tmp_path):
    (train,) = make_files(distinct_chats(50))
    report = tmp_path / "report.json"
    done = subprocess.run([sys.executable, "-m", "auditor", "audit", train, "--max-memory", "20MiB",
                           "--report", "json", "--output", str(report)], capture_output=True, text=True)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("auditor: error: the audit took more than 20.0 MiB of memory (")
    assert done.stderr.endswith("max_memory, --max-memory 0 lifts it): stopped, nothing was written\n")
    assert not report.exists()
    ok = subprocess.run([sys.executable, "-m", "auditor", "audit", train, "--max-memory", "0", "-q"],
                        capture_output=True, text=True)
    assert ok.returncode == 1 and ok.stderr == ""  # 50 rows: not ready, but audited


def test_version_is_the_one_pyproject_declares(capsys):
    from pathlib import Path

    try:
        import tomllib
    except ImportError:  # Python < 3.11
        import tomli as tomllib

    declared = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())["project"]["version"]
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out == f"dataset-auditor {declared}\n"


def test_short_help_and_version_exit_zero_and_a_mistyped_check_suggests_the_nearest(tmp_path, capsys, monkeypatch):
    from auditor.testing import write_jsonl

    done = subprocess.run([sys.executable, "-m", "auditor", "-V"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("dataset-auditor ")
    done = subprocess.run([sys.executable, "-m", "auditor", "audit", "-h"], capture_output=True, text=True)
    assert done.returncode == 0 and "--exit-zero" in done.stdout
    monkeypatch.chdir(tmp_path)
    write_jsonl(tmp_path / "train.jsonl", [{"prompt": "a", "completion": "b"}])
    with pytest.raises(SystemExit) as exc:
        main(["audit", "train.jsonl", "--no-cache", "-q"])
    assert exc.value.code == 1  # one example: not ready
    with pytest.raises(SystemExit) as exc:
        main(["audit", "train.jsonl", "--no-cache", "-q", "--exit-zero"])
    assert exc.value.code == 0
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main(["audit", "train.jsonl", "--no-cache", "-q", "--select", "exact-duplicate"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "unknown check 'exact-duplicate'; did you mean 'exact-duplicates'?" in err


@pytest.mark.parametrize("given, expected", [(None, "1"), ("3", "3")])
def test_the_command_line_starts_numpys_blas_with_one_thread_unless_told(given, expected):
    import os
    import subprocess
    import sys

    # a fresh process: BLAS reads the variable once, when numpy is first imported
    script = ("import os, sys\nfrom auditor.cli import main\ntry:\n    main(['--version'])\nexcept SystemExit:\n"
              "    pass\nprint(os.environ.get('OPENBLAS_NUM_THREADS'), 'numpy' in sys.modules)\n")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if given is not None:
        env["OPENBLAS_NUM_THREADS"] = given
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == f"{expected} False"  # set before numpy is ever imported


ARENA_PROBE = """
import contextlib, ctypes, os, re, sys, threading
if sys.argv[1] == "command":
    from auditor.cli import main
    sys.argv = ["auditor", "--version"]
    with contextlib.suppress(SystemExit):
        main()
libc = ctypes.CDLL(None)
libc.tmpfile.restype = ctypes.c_void_p
barrier = threading.Barrier(6)
def work():  # six threads allocating at once: glibc gives each an arena of its own unless bounded
    barrier.wait()
    held = [ctypes.create_string_buffer(4096) for _ in range(200)]
    barrier.wait()
threads = [threading.Thread(target=work) for _ in range(6)]
for t in threads: t.start()
for t in threads: t.join()
out = ctypes.c_void_p(libc.tmpfile())
libc.malloc_info(0, out)
libc.fflush(out)
fd = libc.fileno(out)
os.lseek(fd, 0, 0)
print(len(re.findall(rb'<heap nr="', os.read(fd, 1 << 20))))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux") or not hasattr(__import__("ctypes").CDLL(None), "malloc_info"),
                    reason="glibc's malloc arenas")
@pytest.mark.parametrize("given, mode, expected", [(None, "command", 2), ("4", "command", 4), (None, "library", None)])
def test_the_command_line_bounds_malloc_arenas_unless_told(given, mode, expected):
    import os

    # a fresh process: the bound applies to arenas created after it; a program that imports the tool is
    # left as it is
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    if given is not None:
        env["MALLOC_ARENA_MAX"] = given
    done = subprocess.run([sys.executable, "-c", ARENA_PROBE, mode], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    heaps = int(done.stdout.split()[-1])
    assert heaps == expected if expected is not None else heaps > 4  # unbounded: an arena per thread
