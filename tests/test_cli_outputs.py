"""Outputs never destroy inputs, are written whole, and a failed write is one line and exit 2."""

import json
import os

import pytest
from conftest import run_cli

from auditor.testing import write_jsonl


@pytest.fixture
def data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rows = [{"prompt": f"question {i}", "completion": json.dumps({"a": i})} for i in range(5)]
    write_jsonl(tmp_path / "t.jsonl", rows)
    write_jsonl(tmp_path / "e.jsonl", rows[:2])
    (tmp_path / "s.json").write_text('{"type": "object"}')
    return tmp_path


@pytest.mark.parametrize("output", ["t.jsonl", "./t.jsonl", "link.jsonl", "hard.jsonl", "e.jsonl", "s.json"])
def test_an_output_that_is_an_input_is_refused(data, capsys, output):
    os.symlink(data / "t.jsonl", data / "link.jsonl")
    os.link(data / "t.jsonl", data / "hard.jsonl")
    before = {name: (data / name).read_bytes() for name in ("t.jsonl", "e.jsonl", "s.json")}
    code, out, err = run_cli(["audit", "t.jsonl", "--eval", "e.jsonl", "--schema", "s.json", "--no-cache",
                          "--report", "json", "--output", output], capsys)
    assert code == 2 and "would overwrite the input" in err and len(err.strip().splitlines()) == 1
    assert {name: (data / name).read_bytes() for name in before} == before


def test_other_commands_refuse_to_overwrite_their_input(data, capsys):
    before = (data / "t.jsonl").read_bytes()
    code, _, err = run_cli(["infer-schema", "t.jsonl", "--output", "./t.jsonl"], capsys)
    assert code == 2 and "would overwrite the input" in err and (data / "t.jsonl").read_bytes() == before
    run_cli(["audit", "t.jsonl", "--no-cache", "--report", "json", "--output", "a.json", "-q"], capsys)
    saved = (data / "a.json").read_bytes()
    code, _, err = run_cli(["report", "a.json", "--format", "html", "--output", "a.json"], capsys)
    assert code == 2 and (data / "a.json").read_bytes() == saved


def test_one_path_for_two_reports_is_refused(data, capsys):
    code, _, err = run_cli(["audit", "t.jsonl", "--no-cache", "--report", "json", "--output", "r.out",
                        "--report", "html", "--output", "./r.out"], capsys)
    assert code == 2 and "given twice" in err and not (data / "r.out").exists()


def test_a_report_is_written_whole_and_leaves_no_temporary_file(data, capsys):
    code, _, _ = run_cli(["audit", "t.jsonl", "--no-cache", "--report", "json", "--output", "r.json", "-q"], capsys)
    assert code in (0, 1) and json.loads((data / "r.json").read_text())["verdict"]
    assert sorted(p.name for p in data.iterdir()) == ["e.jsonl", "r.json", "s.json", "t.jsonl"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_disk_is_one_line_and_exit_2(data, capsys):
    code, _, err = run_cli(["audit", "t.jsonl", "--no-cache", "--report", "json", "--output", "/dev/full", "-q"], capsys)
    assert code == 2 and err.startswith("auditor: error: /dev/full: cannot write") and len(err.splitlines()) == 1
    assert os.path.exists("/dev/full") and not os.path.isfile("/dev/full")  # the device is still there


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_standard_output_is_one_line_and_exit_2(data):
    import subprocess
    import sys

    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "auditor", "audit", "t.jsonl", "--no-cache"],
                              stdout=full, stderr=subprocess.PIPE, text=True, cwd=data)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["auditor: error: cannot write the output: No space left on device"]


def test_a_crashing_check_names_itself_and_exits_2_not_not_ready(data, capsys, monkeypatch):
    from auditor import Check
    from auditor.registry import Registry

    class Crashing(Check):
        """Always crashes."""

        id = "crashing"
        code = "CRASH001"

        def run(self, ctx):
            raise RuntimeError("boom \x1b[2J")

    monkeypatch.setattr(Registry, "from_entry_points", classmethod(lambda cls, *a, **k: Registry.from_classes([Crashing])))
    code, out, err = run_cli(["audit", "t.jsonl", "--no-cache", "-q"], capsys)
    assert code == 2
    assert err.strip().splitlines() == ["auditor: error: check crashing failed: RuntimeError: boom \\x1b[2J"]


def test_an_audit_without_cache_writes_nothing_but_its_outputs(tmp_path):
    import subprocess
    import sys

    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    german = ("Die Bestellung kam zu spät und das Paket war beschädigt, als ich es geöffnet habe. Bitte "
              "schicken Sie mir einen Ersatz oder erstatten Sie den Betrag auf meine Karte zurück.")
    rows = [{"prompt": f"Where is my order number {i}? It has not arrived yet.", "completion": "It ships today."}
            for i in range(5)] + [{"prompt": german, "completion": german}]
    write_jsonl(work / "t.jsonl", rows)
    env = {**os.environ, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"), "TMPDIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "auditor", "audit", "t.jsonl", "--no-cache", "-q",
                           "-o", "language.languages=en", "--report", "json", "--output", "r.json"],
                          cwd=work, env=env, capture_output=True, text=True)
    assert done.returncode in (0, 1), done.stderr
    assert list(home.rglob("*")) == []
    assert sorted(p.name for p in work.iterdir()) == ["r.json", "t.jsonl"]
    assert "LNG001" in (work / "r.json").read_text()  # the second opinion ran


def test_a_fifo_with_a_slow_writer_is_read_once_every_line_kept(tmp_path, capsys, monkeypatch):
    import threading
    import time

    monkeypatch.chdir(tmp_path)
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)

    def slow_writer():
        with open(fifo, "w") as out:  # blocks until the audit opens the pipe
            out.write('{"prompt": "a", "completion": "b"}\n')
            out.flush()
            time.sleep(0.3)
            out.write('{"prompt": "c", "completion": "d"}\n')

    writer = threading.Thread(target=slow_writer, daemon=True)
    writer.start()
    code, out, err = run_cli(["audit", "pipe.jsonl", "--no-cache", "-q", "--report", "json", "--output", "-"], capsys)
    writer.join(5)
    assert code == 1, err
    assert json.loads(out)["inputs"][0]["lines"] == 2


def test_a_device_is_refused_at_once(tmp_path, capsys):
    code, _, err = run_cli(["audit", "/dev/zero", "--no-cache"], capsys)
    assert code == 2
    assert err.strip().splitlines() == ["auditor: error: /dev/zero: is not a regular file (a pipe or a device); "
                                        "save it to a file first"]
