"""A broken or hostile config file is one line naming the problem and exit 2, never a traceback."""

import pytest

from auditor.cli import main
from auditor.testing import write_jsonl

BAD = {
    "not-utf8": b'train = "t.jsonl"\n\xff\xfe = 1\n',
    "decision-string": b'decision = "yes"\n',
    "decision-list": b"decision = [1]\n",
    "dataset-decision": b'[[datasets]]\nname = "a"\ntrain = "t.jsonl"\ndecision = [1]\n',
    "deep-array": b"x = " + b"[" * 5000 + b"]" * 5000 + b"\n",
    "checks-string": b'checks = "count"\n',
    "check-table-string": b'[checks]\ncount = "x"\n',
    "fields-list": b"fields = [1]\n",
    "select-number": b"select = 5\n",
    "seed-float": b"seed = 1.5\n",
    "cache-string": b'cache = "yes"\n',
    "datasets-number": b"datasets = 5\n",
    "min-examples-negative": b"min_examples = -1\n",
    "top-level-array-table": b"[1]\n",
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_config_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys, name):
    monkeypatch.chdir(tmp_path)
    write_jsonl(tmp_path / "t.jsonl", [{"prompt": "a", "completion": "b"}])
    (tmp_path / "auditor.toml").write_bytes(BAD[name])
    with pytest.raises(SystemExit) as exit_info:
        main(["audit", "t.jsonl", "--config", "auditor.toml", "--no-cache"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2, err
    assert err.startswith("auditor: error: auditor.toml: ") and len(err.strip().splitlines()) == 1
