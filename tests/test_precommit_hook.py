"""The real `pre-commit` runs our hook on a temporary data repository: clean commits pass, broken ones fail.

The hook definition is read from this checkout's .pre-commit-hooks.yaml; only `entry` and `language`
are swapped for a `repo: local` + `language: system` hook that runs this interpreter's `auditor`
(`pre-commit try-repo` would build a venv from PyPI on every run: slow and network-bound).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")
ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / ".pre-commit-hooks.yaml"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def chat(i: int) -> str:
    return json.dumps({"messages": [{"role": "user", "content": f"ticket {i} about order {i * 7919} and item {i * 104729}"},
                                    {"role": "assistant", "content": f"refund {i} approved for order {i * 7919}"}]})


def installed_checks() -> set[str]:
    out = subprocess.run([sys.executable, "-m", "auditor", "checks"], capture_output=True, text=True, check=True)
    return {line.split()[0] for line in out.stdout.splitlines() if line.strip()}


@pytest.fixture
def data_repo(tmp_path):
    repo = tmp_path / "repo"
    (repo / "data").mkdir(parents=True)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "GIT_CONFIG_NOSYSTEM": "1",
           "HOME": str(tmp_path), "PRE_COMMIT_COLOR": "never", "NO_COLOR": "1"}
    env.pop("CI", None)

    def git(*args, check=True):
        return subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=check)

    git("init", "-q", "-b", "main")
    git("config", "user.email", "data@example.com")
    git("config", "user.name", "Data Team")
    git("config", "commit.gpgsign", "false")

    (hook,) = yaml.safe_load(MANIFEST.read_text())
    args = shlex.split(hook["entry"])[1:]  # "auditor audit --hook" -> ["audit", "--hook"]
    assert args[:2] == ["audit", "--hook"]
    local = {**hook, "entry": shlex.join([sys.executable, "-m", "auditor", *args]), "language": "system"}
    local.pop("minimum_pre_commit_version", None)
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump({"repos": [{"repo": "local", "hooks": [local]}]}))
    (repo / "auditor.toml").write_text(
        '[[datasets]]\nname = "support"\ntrain = "data/train-*.jsonl"\neval = "data/eval.jsonl"\n'
        "min_examples = 1000\nmin_eval_examples = 5\n")
    (repo / "data" / "train-1.jsonl").write_text("\n".join(chat(i) for i in range(40)) + "\n")
    (repo / "data" / "eval.jsonl").write_text("\n".join(chat(i) for i in range(500, 510)) + "\n")
    (repo / "notes.txt").write_text("not a dataset\n")
    install = subprocess.run([sys.executable, "-m", "pre_commit", "install"], cwd=repo, env=env,
                             capture_output=True, text=True)
    assert install.returncode == 0, install.stdout + install.stderr
    return repo, git


def test_clean_commit_passes_and_broken_line_and_leak_fail_it(data_repo):
    repo, git = data_repo
    git("add", ".")
    first = git("commit", "-m", "add support dataset", check=False)
    output = first.stdout + first.stderr
    # 40 clean examples, 1000 required: the gate is reported but does not fail a commit by default
    assert first.returncode == 0, output
    assert "audit fine-tuning datasets" in output and "Passed" in output
    assert git("rev-list", "--count", "HEAD").stdout.strip() == "1"
    assert git("status", "--porcelain").stdout == ""  # .auditor_cache/ ignores itself

    with open(repo / "data" / "train-1.jsonl", "a") as handle:
        handle.write('{"messages": [oops\n')  # line 41
    with open(repo / "data" / "eval.jsonl", "a") as handle:
        handle.write(chat(7) + "\n")  # line 11: train line 8, leaked into eval
    git("add", "data")
    second = git("commit", "-m", "more data", check=False)
    output = second.stdout + second.stderr
    assert second.returncode != 0, output
    assert "Failed" in output
    assert "data/train-1.jsonl:41: error AUD001 input: invalid JSON: expecting value at column 15" in output
    assert "support: failed (" in output and "fail_on = error)" in output
    assert git("rev-list", "--count", "HEAD").stdout.strip() == "1"  # the commit was stopped
    if "leakage" not in installed_checks():
        pytest.skip("the leakage check is not installed yet: leaked-row finding not asserted")
    leak_lines = [line for line in output.splitlines()
                  if line.startswith("data/eval.jsonl:11: ") and " LEAK0" in line and " leakage: " in line]
    assert leak_lines, output


def test_edited_eval_file_alone_rechecks_its_dataset_and_unknown_files_are_audited_alone(data_repo):
    repo, git = data_repo
    git("add", ".")
    assert git("commit", "-m", "initial", check=False).returncode == 0
    (repo / "data" / "eval.jsonl").write_text("\n".join(chat(i) for i in range(500, 512)) + "\n")
    (repo / "scratch.jsonl").write_text(chat(1) + "\nnot json\n")
    git("add", ".")
    run = subprocess.run([sys.executable, "-m", "pre_commit", "run", "--files", "data/eval.jsonl", "scratch.jsonl"],
                         cwd=repo, capture_output=True, text=True,
                         env={**os.environ, "PRE_COMMIT_HOME": str(repo.parent / "pre-commit-home")})
    output = run.stdout + run.stderr
    assert run.returncode == 1, output
    # the eval file selects its dataset: the train files are audited with it
    assert "support: NOT READY: 40 clean training examples (1,000 required), 12 clean eval examples" in output
    assert "support: passed (0 errors, 0 warnings; fail_on = error; the readiness gate is not enforced" in output
    # a file of no dataset is audited on its own
    assert "scratch.jsonl: failed (1 error; fail_on = error)" in output
    assert "scratch.jsonl:2: error AUD001 input: invalid JSON" in output


def test_help_does_not_import_heavy_modules():
    code = ("import sys\nfrom auditor.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "try:\n    main(['audit', '--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('polars', 'numpy', 'datasketch', 'langdetect', 'jsonschema', 'rich') "
            "if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "--hook" in run.stdout
    assert run.stdout.strip().splitlines()[-1] == "[]"


def test_a_commit_that_changes_only_the_config_runs_the_hook_on_every_dataset(data_repo):
    repo, git = data_repo
    git("add", ".")
    assert git("commit", "-m", "add support dataset", check=False).returncode == 0
    config = (repo / "auditor.toml").read_text()
    (repo / "auditor.toml").write_text(config + "gate = true\n")  # 40 examples, 1000 required: now it fails
    git("add", "auditor.toml")
    changed = git("commit", "-m", "gate the dataset", check=False)
    output = changed.stdout + changed.stderr
    assert changed.returncode != 0 and "audit fine-tuning datasets" in output and "Failed" in output, output
    assert "support: failed (" in output and "not ready" in output, output
    assert "auditor.toml:" not in output  # the config is read as settings, never audited as data
    (repo / "pyproject.toml").write_text('[project]\nname = "data"\n')  # a pyproject.toml of another tool
    (repo / "auditor.toml").write_text(config)
    git("add", ".")
    relaxed = git("commit", "-m", "ungate, add a pyproject", check=False)
    assert relaxed.returncode == 0, relaxed.stdout + relaxed.stderr


def test_a_copy_added_by_a_commit_fails_it_at_the_added_line_though_duplicates_are_warnings(data_repo):
    repo, git = data_repo
    git("add", ".")
    assert git("commit", "-m", "add support dataset", check=False).returncode == 0
    with open(repo / "data" / "train-1.jsonl", "a") as handle:
        handle.write(chat(4) + "\n")  # line 41, a copy of line 5
    git("add", "data")
    added = git("commit", "-m", "one more row", check=False)
    output = added.stdout + added.stderr
    assert added.returncode != 0 and "Failed" in output, output
    assert "data/train-1.jsonl:41: warning DUP001 exact-duplicates: Same prompt and response on 2 lines: 5, 41 (added)" \
        in output, output
    assert "support: failed (1 finding on lines this commit adds, fail_on_added = warning; fail_on = error)" in output
    assert git("rev-list", "--count", "HEAD").stdout.strip() == "1"
    # the same warning, already committed, fails no later commit that adds nothing to it
    (repo / "auditor.toml").write_text((repo / "auditor.toml").read_text() + 'fail_on_added = "error"\n')
    git("add", ".")
    assert git("commit", "-m", "accept the copy", check=False).returncode == 0
    (repo / "auditor.toml").write_text((repo / "auditor.toml").read_text().replace('fail_on_added = "error"\n', ""))
    with open(repo / "data" / "train-1.jsonl", "a") as handle:
        handle.write(chat(41) + "\n")  # line 42, a new clean row
    git("add", ".")
    later = git("commit", "-m", "a clean row", check=False)
    output = later.stdout + later.stderr
    assert later.returncode == 0, output  # pre-commit prints a passing hook's lines only with --verbose


def test_a_baselined_repository_commits_cleanly_until_a_new_problem_is_added(data_repo):
    repo, git = data_repo
    with open(repo / "data" / "train-1.jsonl", "a") as handle:
        handle.write(chat(3) + "\n" + '{"messages": [oops\n')  # lines 41 and 42: a copy and a broken line
    git("add", ".")
    refused = git("commit", "-m", "dataset with known problems", check=False)
    assert refused.returncode != 0, refused.stdout + refused.stderr
    written = subprocess.run([sys.executable, "-m", "auditor", "baseline", "write"], cwd=repo, capture_output=True,
                             text=True)
    assert written.returncode == 0 and "auditor-baseline.json: 2 findings of 1 audit recorded" in written.stdout, \
        written.stdout + written.stderr
    git("add", ".")
    accepted = git("commit", "-m", "dataset, its problems accepted", check=False)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    with open(repo / "data" / "train-1.jsonl", "a") as handle:
        handle.write(chat(42) + "\n")  # a clean row
    git("add", ".")
    assert git("commit", "-m", "a clean row", check=False).returncode == 0
    with open(repo / "data" / "eval.jsonl", "a") as handle:
        handle.write(chat(9) + "\n")  # line 11: train line 10, leaked into eval
    git("add", ".")
    leaked = git("commit", "-m", "a leak", check=False)
    output = leaked.stdout + leaked.stderr
    assert leaked.returncode != 0, output
    assert "data/eval.jsonl:11: error LEAK001" in output and "(added)" in output
    assert "Review: 1 new, 2 in the baseline, 0 fixed since, 0 waived" in output
    # the line that fails the commit comes first; the accepted ones follow under their own heading
    failing, others = output.index("1 finding failing the commit:"), output.index("2 other findings (not failing")
    assert failing < output.index("data/eval.jsonl:11: error LEAK001") < others
    assert others < output.index("data/train-1.jsonl:42: error AUD001")
    assert git("rev-list", "--count", "HEAD").stdout.strip() == "2"
