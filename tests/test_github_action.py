"""The composite GitHub Action: its audit step, run here as the runner runs it, and the README's snippet."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from auditor.version import __version__

yaml = pytest.importorskip("yaml")
ROOT = Path(__file__).resolve().parents[1]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())


def step(name: str) -> dict:
    return next(s for s in ACTION["runs"]["steps"] if s.get("name") == name)


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_the_audit_step_annotates_writes_sarif_and_the_summary_and_its_exit_code(tmp_path):
    for name in ("train.jsonl", "eval.jsonl"):
        shutil.copy(ROOT / "sample_data" / name, tmp_path / name)
    outputs, summary = tmp_path / "github_output", tmp_path / "summary.md"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "GITHUB_OUTPUT": str(outputs), "GITHUB_STEP_SUMMARY": str(summary),
           "AUDITOR_ARGS": "train.jsonl --eval eval.jsonl --no-cache $(touch injected)", "SARIF": "auditor.sarif"}
    env.pop("GITHUB_EVENT_PATH", None)
    run = subprocess.run(["bash", "-c", step("Audit")["run"]], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr  # the step itself passes: the verdict step fails the job, after uploads
    assert outputs.read_text() == "exit-code=2\n"  # "$(touch" is taken as a file name, never run
    assert not (tmp_path / "injected").exists()
    env["AUDITOR_ARGS"] = "train.jsonl --eval eval.jsonl --no-cache"
    outputs.unlink()
    run = subprocess.run(["bash", "-c", step("Audit")["run"]], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert outputs.read_text() == "exit-code=1\n", run.stderr
    assert "::error file=train.jsonl,line=104,title=AUD001 input::invalid JSON" in run.stdout
    assert run.stdout.splitlines()[-1].startswith("::error title=dataset-auditor::NOT READY")
    sarif = json.loads((tmp_path / "auditor.sarif").read_text())
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"]
    assert summary.read_text().startswith("<!-- dataset-auditor report -->\n## ❌ NOT READY")
    verdict = subprocess.run(["bash", "-c", step("Verdict")["run"]], env={**env, "CODE": "1"})
    assert verdict.returncode == 1
    assert subprocess.run(["bash", "-c", step("Verdict")["run"]], env={**env, "CODE": ""}).returncode == 2


def test_inputs_reach_the_scripts_only_through_the_environment():
    for s in ACTION["runs"]["steps"]:
        assert "${{" not in s.get("run", ""), s["name"]  # an expression pasted into a script can inject commands
    assert step("Upload SARIF")["uses"].startswith("github/codeql-action/upload-sarif@")


def test_the_readme_snippets_use_the_action_and_the_hook_at_this_version():
    readme = (ROOT / "README.md").read_text()
    workflow = next(block for block in re.findall(r"```yaml\n(.*?)```", readme, re.S) if "runs-on" in block)
    steps = yaml.safe_load(workflow)["jobs"]["audit"]["steps"]
    (audit,) = [s for s in steps if "dataset-auditor@" in s.get("uses", "")]
    assert audit["uses"].endswith(f"@v{__version__}")
    assert set(audit.get("with", {})) <= set(ACTION["inputs"])
    assert f"rev: v{__version__}" in readme
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'\nversion = "{__version__}"\n' in pyproject
