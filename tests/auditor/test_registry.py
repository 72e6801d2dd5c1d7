import json
from importlib.metadata import EntryPoint

import pytest
from conftest import distinct_chats

from auditor import Check, Severity
from auditor import registry as registry_module
from auditor.config import AuditConfig
from auditor.engine import audit
from auditor.errors import CheckLoadError, ConfigError
from auditor.registry import Registry, discover, load, select


class ShoutingCheck(Check):
    """Flags responses written in capitals.

    ## What it does
    Reports every response that is entirely upper case.

    ## Why is this bad?
    The model learns to shout.

    ## Example
    ```jsonl
    {"prompt": "hi", "completion": "HELLO"}
    ```
    """

    id = "shouting"
    code = "SHT001"

    def run(self, ctx):
        rows = ctx.rows("train")
        loud = rows.filter(rows["response"].str.to_uppercase() == rows["response"])
        findings = [self.finding("Response is all capitals", source=s, line=ln, split="train",
                                 severity=Severity.WARNING) for s, ln in loud.select("source", "line").iter_rows()]
        return self.result(findings, summary=f"{len(findings)} shouting responses", excluded=loud["row"].to_list())


def fake_entry_points(monkeypatch, extra):
    real = registry_module.entry_points

    def patched(group):
        return [*real(group=group), *extra]
    monkeypatch.setattr(registry_module, "entry_points", patched)


def test_builtin_checks_are_found_through_the_entry_point_group():
    names = [ep.name for ep in discover()]
    assert {"count", "format"} <= set(names)
    assert names == sorted(names)


def test_a_third_party_plugin_runs_and_appears_in_the_report(monkeypatch, tmp_path):
    import sys

    module = tmp_path / "shouting_plugin.py"
    module.write_text("from test_registry import ShoutingCheck\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    fake_entry_points(monkeypatch, [EntryPoint("shouting", "shouting_plugin:ShoutingCheck", "auditor.checks")])
    records = distinct_chats(5)
    records[3]["messages"][2]["content"] = "STOP SHOUTING"
    path = tmp_path / "train.jsonl"
    from auditor.testing import write_jsonl
    write_jsonl(path, records)
    report = audit(AuditConfig(train=(str(path),), min_examples=1))
    result = next(r for r in report["results"] if r["check"] == "shouting")
    assert [(f["line"], f["code"]) for f in result["findings"]] == [(4, "SHT001")]
    assert report["verdict"]["clean_examples"] == 4
    assert "shouting" in report["checks"]
    sys.modules.pop("shouting_plugin", None)


def test_plugin_that_fails_to_import_is_a_load_error(monkeypatch):
    with pytest.raises(CheckLoadError, match="failed to load: ModuleNotFoundError"):
        load(EntryPoint("ghost", "no_such_module:Ghost", "auditor.checks"))


def test_plugin_whose_id_differs_from_its_entry_point_name_is_rejected():
    with pytest.raises(CheckLoadError, match="has id 'shouting'; they must match"):
        load(EntryPoint("loud", "test_registry:ShoutingCheck", "auditor.checks"))


def test_plugin_that_is_not_a_check_is_rejected():
    with pytest.raises(CheckLoadError, match="not a subclass"):
        load(EntryPoint("path", "os.path:join", "auditor.checks"))


def test_select_and_ignore():
    assert select(["a", "b", "c"], ["a", "c"], ["c"]) == ["a"]
    assert select(["a", "b"], (), ["a"]) == ["b"]
    with pytest.raises(ConfigError, match="unknown check 'z'"):
        select(["a"], ["z"])


def test_registry_from_classes_bypasses_discovery(tmp_path):
    from auditor.testing import write_jsonl

    path = write_jsonl(tmp_path / "t.jsonl", distinct_chats(3))
    report = audit(AuditConfig(train=(str(path),)), registry=Registry.from_classes([ShoutingCheck]))
    assert [r["check"] for r in report["results"]] == ["input", "shouting"]


def test_check_ids_and_codes_are_validated_at_class_creation():
    with pytest.raises(TypeError, match="kebab-case"):
        type("Bad", (Check,), {"id": "Bad_Name", "code": "BAD001"})
    with pytest.raises(TypeError, match="ABC001"):
        type("Bad", (Check,), {"id": "bad", "code": "bad"})


class BadDataCheck(Check):
    """Returns what no report can hold: chosen by `mode`."""

    id = "bad-data"
    code = "BAD001"
    mode = "numpy"

    def run(self, ctx):
        import numpy as np

        path = ctx.datasets[0].path
        if self.mode == "numpy":
            return self.result([self.finding("x", source=path, line=1, count=np.int64(3))])
        if self.mode == "line":
            return self.result([self.finding("x", source=path, line=999)])
        if self.mode == "path":
            return self.result([self.finding("x", source="/etc/passwd", line=1)])
        if self.mode == "metrics":
            return self.result(metrics={"rate": np.float32(0.5)})
        if self.mode == "excluded-array":
            return self.result(excluded=np.array([0, 10**9]))
        if self.mode == "excluded-float":
            return self.result(excluded=[0.5])
        if self.mode == "excluded-huge":
            return self.result(excluded=[2**70])
        return self.result(excluded=[10**9])


@pytest.mark.parametrize("mode, problem", [
    ("numpy", "finding 1's data is not JSON: Type is not JSON serializable: numpy.int64"),
    ("line", "finding 1: line 999 is not a line of"),
    ("path", "finding 1: '/etc/passwd' is not an input of this audit"),
    ("metrics", "metrics is not JSON"),
    ("excluded", "excluded holds something that is not a row id"),
    ("excluded-array", "excluded holds something that is not a row id"),
    ("excluded-float", "excluded holds something that is not a row id"),
    ("excluded-huge", "excluded holds something that is not a row id"),
])
def test_a_result_that_cannot_be_reported_names_the_check_and_exits_2(monkeypatch, tmp_path, capsys, mode, problem):
    from auditor.cli import main
    from auditor.testing import write_jsonl

    monkeypatch.setattr(BadDataCheck, "mode", mode)
    module = tmp_path / "bad_data_plugin.py"
    module.write_text("from test_registry import BadDataCheck\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    fake_entry_points(monkeypatch, [EntryPoint("bad-data", "bad_data_plugin:BadDataCheck", "auditor.checks")])
    path = write_jsonl(tmp_path / "train.jsonl", distinct_chats(5))
    with pytest.raises(SystemExit) as exc:
        main(["audit", str(path), "--select", "bad-data,count", "--no-cache", "-q"])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert err.startswith("auditor: error: check bad-data failed: TypeError: run() returned a result that cannot "
                          "be reported: ")
    assert problem in err and err.count("\n") == 1


def test_a_broken_plugin_is_skipped_with_a_warning_unless_selected(monkeypatch, tmp_path, capsys):
    from auditor.cli import main
    from auditor.testing import write_jsonl

    fake_entry_points(monkeypatch, [EntryPoint("ghost", "no_such_module:Ghost", "auditor.checks")])
    path = write_jsonl(tmp_path / "train.jsonl", distinct_chats(5))
    with pytest.raises(SystemExit) as exc:
        main(["audit", str(path), "--no-cache", "--report", "json", "--output", "-"])
    out, err = capsys.readouterr()
    assert exc.value.code == 1  # 5 rows: not ready, but audited by every other check
    assert err.startswith("auditor: warning: check 'ghost' (no_such_module:Ghost) failed to load: "
                          "ModuleNotFoundError")
    report = json.loads(out)
    assert report["settings"]["checks_not_loaded"][0].startswith("check 'ghost'")
    assert "ghost" not in report["settings"]["checks"] and "count" in report["settings"]["checks"]
    with pytest.raises(SystemExit) as exc:
        main(["checks"])
    out, err = capsys.readouterr()
    assert exc.value.code in (0, None) and "count" in out and "auditor: warning: check 'ghost'" in err
    with pytest.raises(SystemExit) as exc:
        main(["audit", str(path), "--select", "ghost", "--no-cache"])
    assert exc.value.code == 2 and "check 'ghost' (no_such_module:Ghost) failed to load" in capsys.readouterr().err


def test_finding_data_may_use_the_names_of_finding_arguments():
    finding = ShoutingCheck().finding("m", source="t.jsonl", line=2, data={"source": "crawl", "line": 7}, extra=1)
    assert finding.location.line == 2 and finding.data == {"source": "crawl", "line": 7, "extra": 1}


def test_a_plugin_shipping_its_own_checks_package_cannot_shadow_a_built_in(tmp_path):
    # another distribution's top-level `checks` package, first on the path, as an install would put it
    import os
    import subprocess
    import sys

    fake = tmp_path / "site" / "checks"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "count.py").write_text("raise SystemExit('the plugin shadowed the built-in count check')\n")
    code = ("from auditor.registry import Registry\n"
            "plugin = Registry.from_entry_points(selected=['count']).get('count')\n"
            "print(plugin.cls.__module__, plugin.dist)\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["dataset_auditor_checks.count", "dataset-auditor"]


class PluginContradictions(Check):
    """A plugin's own contradiction finder: it always finds one."""

    id = "plugin-contradictions"
    code = "PCN001"
    provides = frozenset({"contradictions", "cluster-sizes"})

    def run(self, ctx):
        path = ctx.datasets[0].path
        found = self.finding("lines 1 and 2 disagree", source=path, line=1, related=[(path, 2)], lines=[1, 2])
        return self.result([found], summary="1 prompt taught two ways", metrics={"cluster_sizes": {"2": 1}})


def test_a_plugin_declaring_a_role_answers_for_it_like_a_built_in(tmp_path):
    from auditor.render import renderer
    from auditor.testing import write_jsonl

    path = write_jsonl(tmp_path / "train.jsonl", distinct_chats(5))
    report = audit(AuditConfig(train=(str(path),), select=("plugin-contradictions",)),
                   registry=Registry.from_classes([PluginContradictions]))
    item = next(i for i in report["verdict"]["checklist"] if i["id"] == "no_contradictions")
    assert (item["answer"], item["evidence"]) == ("no", "plugin-contradictions: 1 prompt taught two ways")
    assert report["checks"]["plugin-contradictions"]["provides"] == ["cluster-sizes", "contradictions"]
    assert "Cluster sizes (plugin-contradictions)" in renderer("html")(report)
    with pytest.raises(TypeError, match="unknown role 'leaks'"):
        class Misnamed(Check):
            """x"""
            id = "misnamed"
            code = "MIS001"
            provides = frozenset({"leaks"})


class WarningContradictions(Check):
    """Finds one contradiction, as a warning only (as free-text answers are)."""

    id = "warning-contradictions"
    code = "WCN001"
    provides = frozenset({"contradictions"})

    def run(self, ctx):
        from auditor import Severity

        path = ctx.datasets[0].path
        found = self.finding("two final answers", source=path, line=1, severity=Severity.WARNING)
        return self.result([found], summary="1 prompt with two final answers")


class CrashingLeakage(Check):
    """Answers for the held-out eval set, and crashes."""

    id = "crashing-leakage"
    code = "CLK001"
    provides = frozenset({"held-out-eval"})

    def run(self, ctx):
        raise RuntimeError("out of luck")


def test_the_checklist_says_no_exactly_when_a_check_answering_it_fails_or_crashes(tmp_path):
    from auditor.testing import write_jsonl

    train = write_jsonl(tmp_path / "train.jsonl", distinct_chats(5))
    evals = write_jsonl(tmp_path / "eval.jsonl", distinct_chats(8)[5:])
    report = audit(AuditConfig(train=(str(train),), eval=(str(evals),), min_examples=1, min_eval_examples=1,
                               select=("warning-contradictions", "crashing-leakage")),
                   registry=Registry.from_classes([WarningContradictions, CrashingLeakage]))
    answers = {i["id"]: i["answer"] for i in report["verdict"]["checklist"]}
    status = {r["check"]: r["status"] for r in report["results"]}
    # a warning is what the checks table says it is, a warning: the question is answered yes
    assert status["warning-contradictions"] == "warn" and answers["no_contradictions"] == "yes"
    # a crash is no evidence of a held-out set: no, and the reasons say why, as the table does
    assert status["crashing-leakage"] == "error" and answers["held_out_eval"] == "no"
    held_out = next(i for i in report["verdict"]["checklist"] if i["id"] == "held_out_eval")
    assert "crashing-leakage: " in held_out["evidence"] and "out of luck" in held_out["evidence"]
    assert any(reason.startswith("crashing-leakage: ") for reason in report["verdict"]["reasons"])
