import json
from pathlib import Path

import pytest
from render_samples import big_report, enrich, hostile_train, real_report

from auditor.render.sarif import artifact_location, render_sarif

# the official OASIS schema, shipped with the tests so that validation never skips
SARIF_SCHEMA = Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json"


def validate(sarif: dict) -> None:
    from jsonschema.validators import validator_for

    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    validator = validator_for(schema)  # the draft the schema declares
    errors = sorted(validator(schema).iter_errors(sarif), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


@pytest.fixture
def report(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base = real_report(tmp_path, hostile_train(), [{"text": "late parcel", "label": "delivery"}] * 6)
    for item in base["inputs"]:  # relative paths, as from `auditor audit data/train.jsonl`
        item["path"] = Path(item["path"]).name
    for r in base["results"]:
        for f in r["findings"]:
            f["path"] = Path(f["path"]).name
    return enrich(base)


def test_one_result_per_finding_anchored_to_file_and_line(report):
    sarif = json.loads(render_sarif(report))
    validate(sarif)
    run = sarif["runs"][0]
    findings = [f for r in report["results"] for f in r["findings"]]
    assert len(run["results"]) == len(findings)
    by_rule = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    contradiction = next(r for r in run["results"] if r["ruleId"] == "CON001")
    location = contradiction["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "train.jsonl"
    assert location["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
    assert location["region"] == {"startLine": 7}
    assert contradiction["relatedLocations"][0]["physicalLocation"]["region"] == {"startLine": 5}
    assert contradiction["level"] == "error"
    assert next(r for r in run["results"] if r["ruleId"] == "DUP002")["level"] == "warning"
    assert next(r for r in run["results"] if r["ruleId"] == "LNG001")["level"] == "note"
    rule = by_rule["CON001"]
    assert rule["name"] == "contradictions" and "## What it does" in rule["help"]["markdown"]
    assert rule["shortDescription"]["text"] == "The contradictions check"
    assert by_rule["AUD001"]["name"] == "input"
    assert run["results"][0]["ruleIndex"] == list(by_rule).index(run["results"][0]["ruleId"])


def test_deterministic_and_no_timestamps(report):
    first, second = render_sarif(report), render_sarif(json.loads(json.dumps(report)))
    assert first == second
    assert "startTimeUtc" not in first and "endTimeUtc" not in first


def test_absolute_paths_become_file_uris():
    assert artifact_location("/data/my set/train.jsonl") == {"uri": "file:///data/my%20set/train.jsonl"}
    assert artifact_location("C:\\data\\train.jsonl") == {"uri": "file:///C%3A/data/train.jsonl"}
    assert artifact_location("data/train#1.jsonl") == {"uri": "data/train%231.jsonl", "uriBaseId": "%SRCROOT%"}


def test_large_report_validates(report):
    sarif = json.loads(render_sarif(big_report(report, 2_000)))
    assert len(sarif["runs"][0]["results"]) >= 2_000
    validate(sarif)


def test_uris_are_relative_to_the_repository_root_and_results_stop_at_25000(report, tmp_path, monkeypatch):
    (tmp_path / ".git").mkdir()
    (tmp_path / "data").mkdir()
    monkeypatch.chdir(tmp_path / "data")
    assert artifact_location("train.jsonl") == {"uri": "data/train.jsonl", "uriBaseId": "%SRCROOT%"}
    assert artifact_location(str(tmp_path / "data" / "eval.jsonl")) == {"uri": "data/eval.jsonl",
                                                                         "uriBaseId": "%SRCROOT%"}
    monkeypatch.chdir(tmp_path)
    big = big_report(report, 25_100)
    run = json.loads(render_sarif(big))["runs"][0]
    total = sum(len(r["findings"]) for r in big["results"])
    assert len(run["results"]) == 25_000 and run["properties"]["resultsOmitted"] == total - 25_000
    assert sum(run["properties"]["resultsOmittedByRule"].values()) == total - 25_000
    levels = [r["level"] for r in run["results"]]
    assert levels == sorted(levels, key=["error", "warning", "note"].index)  # errors are never the ones cut


def test_rules_have_a_default_level_related_lines_are_linked_and_no_row_text_is_uploaded(report):
    run = json.loads(render_sarif(report))["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules["CON001"]["defaultConfiguration"] == {"level": "error"}
    assert rules["CON001"]["properties"]["tags"] == ["dataset", "contradictions"]
    contradiction = next(r for r in run["results"] if r["ruleId"] == "CON001")
    assert contradiction["message"]["text"].endswith(" Related: [line 5](1)")
    for result in run["results"]:
        data = result["properties"].get("data", {})
        assert not set(data) & {"members", "text", "prompt", "response"}
        assert len(data.get("excerpt", "")) <= 120


def test_sarif_root_names_the_folder_uris_are_relative_to(tmp_path, monkeypatch, capsys):
    from auditor.cli import main
    from auditor.testing import write_jsonl

    (tmp_path / "repo" / "data").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "repo" / "data")
    write_jsonl(tmp_path / "repo" / "data" / "t.jsonl", [{"prompt": "q", "completion": "a"}] * 3)
    for root, uri in ((str(tmp_path / "repo"), "data/t.jsonl"), (".", "t.jsonl")):
        with pytest.raises(SystemExit):
            main(["audit", "t.jsonl", "--no-cache", "-q", "--output-format", "sarif", "--output", str(tmp_path / "s.sarif"),
                  "--sarif-root", root])
        run = json.loads(open(str(tmp_path / "s.sarif")).read())["runs"][0]
        assert {a["location"]["uri"] for a in run["artifacts"]} == {uri}
        assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]} == {uri}
    with pytest.raises(SystemExit) as exc:
        main(["audit", "t.jsonl", "--output-format", "sarif", "--sarif-root", "nowhere"])
    assert exc.value.code == 2 and "--sarif-root nowhere: not a folder" in capsys.readouterr().err


def test_rules_link_the_documentation_their_check_or_its_distribution_declares(report, monkeypatch):
    import importlib.metadata as metadata_module

    import auditor.engine as engine
    from auditor.check import Check
    from auditor.registry import Plugin

    class Linked(Check):
        """Finds nothing, with a page of its own."""

        id = "linked"
        code = "LNK001"
        docs_url = "https://checks.example.org/linked"

    class Unlinked(Check):
        """Finds nothing; its distribution has a documentation page."""

        id = "unlinked"
        code = "ULK001"

    class FakeMetadata:
        def get_all(self, name):
            return ["Homepage, https://example.org", "Documentation, https://docs.example.org/checks#top"]

    real = metadata_module.metadata
    monkeypatch.setattr(metadata_module, "metadata",
                        lambda dist: FakeMetadata() if dist == "acme-checks" else real(dist))
    info = {p.id: engine._check_info(p, p.cls()) for p in (Plugin("linked", Linked, "acme-checks", "1.0"),
                                                             Plugin("unlinked", Unlinked, "acme-checks", "1.0"),
                                                             Plugin("bare", Unlinked, "no-such-dist", "1.0"))}
    assert info["linked"]["docs_url"] == "https://checks.example.org/linked"
    assert info["unlinked"]["docs_url"] == "https://docs.example.org/checks#unlinked"
    assert info["bare"]["docs_url"] is None

    report["checks"]["contradictions"]["docs_url"] = info["unlinked"]["docs_url"]
    report["checks"]["count"]["docs_url"] = None
    sarif = json.loads(render_sarif(report))
    rules = {r["id"]: r for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["CON001"]["helpUri"] == "https://docs.example.org/checks#unlinked"
    assert "helpUri" not in rules["CNT001"]  # no page: no link, never a made-up one
    validate(sarif)
