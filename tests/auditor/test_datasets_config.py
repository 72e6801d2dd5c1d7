"""[[datasets]] configuration, which audits a command line selects, and the hook's exit policy."""

from __future__ import annotations

import json

import pytest
from conftest import distinct_chats

from auditor.cli import main
from auditor.cli.hook import hook_summary
from auditor.config import load_config, plan_audits
from auditor.errors import ConfigError
from auditor.testing import write_jsonl
from auditor.verdict import HOOK_POLICY, ExitPolicy, exit_code

CONFIG = """
min_examples = 10
min_eval_examples = 5
eval = "shared-eval.jsonl"
[checks.count]
min_per_label = 3

[[datasets]]
name = "support"
train = ["support/train-*.jsonl"]
eval = "support/eval.jsonl"
min_examples = 20
checks.count = { min_per_label = 5 }

[[datasets]]
name = "sales"
train = "sales/**/*.jsonl"
format = "chat"
"""


@pytest.fixture
def repo(tmp_path, monkeypatch):
    for path, n in [("support/train-1.jsonl", 12), ("support/train-2.jsonl", 12), ("support/eval.jsonl", 5),
                    ("sales/a/one.jsonl", 8), ("shared-eval.jsonl", 5), ("loose.jsonl", 3)]:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        write_jsonl(tmp_path / path, distinct_chats(n, start=100 * len(path)))
    (tmp_path / "auditor.toml").write_text(CONFIG)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def names(plans):
    return [(p.name, p.config.train, p.config.eval) for p in plans]


def test_datasets_expand_globs_and_override_the_top_level(repo):
    config = load_config()
    assert [d.name for d in config.datasets] == ["support", "sales"]
    plans = plan_audits(config)
    assert names(plans) == [
        ("support", ("support/train-1.jsonl", "support/train-2.jsonl"), ("support/eval.jsonl",)),
        ("sales", ("sales/a/one.jsonl",), ()),
    ]
    support, sales = (p.config for p in plans)
    assert (support.min_examples, support.checks["count"], support.format) == (20, {"min_per_label": 5}, None)
    assert (sales.min_examples, sales.checks["count"], sales.format) == (10, {"min_per_label": 3}, "chat")


def test_paths_are_relative_to_the_config_file(repo, monkeypatch):
    monkeypatch.chdir(repo / "support")
    (plan, _) = plan_audits(load_config())
    assert plan.config.train == ("train-1.jsonl", "train-2.jsonl") and plan.config.eval == ("eval.jsonl",)


def test_files_select_their_datasets_and_others_are_audited_alone_in_hook_mode(repo):
    config = load_config()
    plans = plan_audits(config, ["support/eval.jsonl", "loose.jsonl", "./support/train-2.jsonl"], hook=True)
    assert names(plans) == [
        ("support", ("support/train-1.jsonl", "support/train-2.jsonl"), ("support/eval.jsonl",)),
        (None, ("loose.jsonl",), ()),
    ]
    assert plans[1].config.min_examples == 10  # top-level settings


def test_outside_hook_mode_other_files_are_one_audit_with_the_top_level_eval(repo):
    plans = plan_audits(load_config(), ["loose.jsonl", "sales/a/one.jsonl", "shared-eval.jsonl"])
    assert names(plans) == [("sales", ("sales/a/one.jsonl",), ()),
                            (None, ("loose.jsonl", "shared-eval.jsonl"), ("shared-eval.jsonl",))]


def test_top_level_train_is_one_more_unnamed_dataset(tmp_path, monkeypatch):
    write_jsonl(tmp_path / "t.jsonl", distinct_chats(3))
    write_jsonl(tmp_path / "e.jsonl", distinct_chats(3, start=10))
    (tmp_path / "auditor.toml").write_text('train = "t.jsonl"\neval = "e.jsonl"\n')
    monkeypatch.chdir(tmp_path)
    assert names(plan_audits(load_config(), ["e.jsonl"], hook=True)) == [(None, ("t.jsonl",), ("e.jsonl",))]
    assert names(plan_audits(load_config())) == [(None, ("t.jsonl",), ("e.jsonl",))]


@pytest.mark.parametrize("text, message", [
    ('[[datasets]]\nname = "a"\ntrian = "x.jsonl"\n', "unknown key 'datasets[1].trian'"),
    ('[[datasets]]\nname = "a"\n', "'datasets[1].train' is required"),
    ('[[datasets]]\ntrain = "a.jsonl"\nname = "a"\n[[datasets]]\ntrain = "b.jsonl"\nname = "a"\n',
     "two datasets are named 'a'"),
    ('[[datasets]]\ntrain = "a.jsonl"\nformat = "csv"\n', "'datasets[1].format' must be one of"),
    ('datasets = "a.jsonl"\n', "'datasets' must be an array of tables"),
    ('fail_on = "sometimes"\n', "'fail_on' must be one of error, warning, never"),
    ('gate = "yes"\n', "'gate' must be true or false"),
    ('cache = 1\n', "'cache' must be true or false"),
], ids=["typo", "no-train", "same-name", "bad-format", "not-tables", "fail-on", "gate", "cache"])
def test_bad_dataset_config_names_the_key(tmp_path, text, message):
    (tmp_path / "auditor.toml").write_text(text)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_config(tmp_path / "auditor.toml")


def test_pyproject_tables_are_named_with_their_prefix(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[[tool.auditor.datasets]]\ntrain = "a.jsonl"\nbogus = 1\n')
    with pytest.raises(ConfigError, match=r"unknown key 'tool.auditor.datasets\[1\].bogus'"):
        load_config(tmp_path / "pyproject.toml")


def test_glob_matching_nothing_is_an_error(tmp_path, monkeypatch):
    (tmp_path / "auditor.toml").write_text('[[datasets]]\nname = "x"\ntrain = "none/*.jsonl"\n')
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="dataset 'x': no file matches train"):
        plan_audits(load_config())


def run(capsys, *args):
    with pytest.raises(SystemExit) as exc:
        main(["audit", *args])
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def test_hook_mode_exit_codes_follow_fail_on_and_gate(repo, capsys):
    with open(repo / "sales/a/one.jsonl", "a") as handle:
        handle.write("\n")  # blank line: a warning
    code, out, _ = run(capsys, "--hook", "--no-cache", "sales/a/one.jsonl")
    assert code == 0, out  # NOT READY (8 < 10) and a warning: neither fails by default
    assert out.splitlines()[0] == "sales: NOT READY: 8 clean training examples (10 required)"
    assert "sales/a/one.jsonl:9: warning AUD002 input: blank line" in out.splitlines()
    assert run(capsys, "--hook", "--no-cache", "--fail-on", "warning", "sales/a/one.jsonl")[0] == 1
    assert run(capsys, "--hook", "--no-cache", "--gate", "sales/a/one.jsonl")[0] == 1
    code, out, _ = run(capsys, "--hook", "--no-cache", "--gate", "--fail-on", "never", "support/eval.jsonl")
    assert code == 0, out  # support: 24 >= 20 and READY
    (repo / "auditor.toml").write_text(CONFIG.replace('format = "chat"', 'format = "chat"\ngate = true'))
    assert run(capsys, "--hook", "--no-cache", "sales/a/one.jsonl")[0] == 1


def test_without_hook_mode_exit_codes_are_unchanged(repo, capsys):
    assert run(capsys, "--no-cache", "sales/a/one.jsonl")[0] == 1  # NOT READY
    assert run(capsys, "--no-cache", "--no-gate", "sales/a/one.jsonl")[0] == 0  # asked for on the command line


def test_no_files_audits_every_dataset_and_report_needs_one(repo, capsys):
    code, out, _ = run(capsys, "--no-cache")
    assert "== support ==" in out and "== sales ==" in out
    code, _, err = run(capsys, "--no-cache", "--report", "json", "--output", "-")
    assert code == 2 and "2 are selected (support, sales)" in err
    code, out, _ = run(capsys, "--no-cache", "--report", "json", "--output", "-", "-q", "support/train-1.jsonl")
    report = json.loads(out)
    assert [i["path"] for i in report["inputs"]] == ["support/train-1.jsonl", "support/train-2.jsonl",
                                                     "support/eval.jsonl"]
    assert report["verdict"]["min_examples"] == 20


def test_command_line_options_win_over_dataset_settings(repo, capsys):
    code, out, _ = run(capsys, "--no-cache", "--min-examples", "5", "-q", "--report", "json", "--output", "-",
                       "support/eval.jsonl")
    assert json.loads(out)["verdict"]["min_examples"] == 5


def test_hook_summary_lines():
    finding = {"check": "input", "code": "AUD001", "severity": "error", "message": "invalid JSON", "path": "a.jsonl",
               "line": 3}
    report = {"verdict": {"status": "not_ready", "reasons": ["3 clean training examples, 500 required"],
                          "clean_examples": 3, "min_examples": 500, "eval_rows": 0},
              "results": [{"check": "input", "status": "fail", "findings": [finding], "findings_omitted": 0}]}
    text = hook_summary(report, "a.jsonl")
    assert exit_code(report, HOOK_POLICY) == 1
    assert text.splitlines() == ["a.jsonl: NOT READY: 3 clean training examples (500 required)",
                                 "  - 3 clean training examples, 500 required",
                                 "a.jsonl: failed (1 error; fail_on = error)",
                                 "a.jsonl:3: error AUD001 input: invalid JSON"]
    never = ExitPolicy(gate=False, fail_on="never")
    assert exit_code(report, never) == 0
    assert hook_summary(report, "a.jsonl", never).splitlines()[2] == "a.jsonl: passed (1 error, 0 warnings; fail_on = never; the readiness gate is not enforced (gate = false))"
    assert exit_code(report, ExitPolicy()) == 1  # the audit command's own policy: NOT READY fails
    report["results"][0]["status"] = "error"
    assert exit_code(report, never) == 2  # a crashed check is no verdict, whatever the policy
