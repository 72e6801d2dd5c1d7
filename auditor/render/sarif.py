"""SARIF 2.1.0: one result per finding, anchored to its JSONL file and line, so code hosts annotate the rows.

- `ruleId` is the finding's code (`DUP001`), the code users see in `path:line: CODE message` lines;
  a check with several codes gets one rule per code. Each rule carries the check's documentation
  (`report["checks"][id]["doc"]`): `name` = check id, `shortDescription` = its summary line,
  `fullDescription` and `help` = the whole Markdown docstring.
- `level`: error -> error, warning -> warning, info -> note.
- Locations: paths inside the repository (the git top level above the working folder, else the
  working folder) as URIs relative to it with `uriBaseId` "%SRCROOT%", as code scanning resolves them;
  other absolute paths as file URIs; `region.startLine` when the finding has a line; `related` becomes
  `relatedLocations`, linked from the message.
- `partialFingerprints` are the findings' content fingerprints: an alert survives lines moving.
- At most MAX_RESULTS results (what GitHub code scanning accepts per run), errors first; the rest are
  counted in the run's properties. Dataset text stays out: a result's data keeps one short excerpt.
- Deterministic: no timestamps, no absolute working directory; the same report (rendered in the same
  folder) gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote

from .common import ENGINE_RULES, normalized

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {"error": "error", "warning": "warning", "info": "note"}
MAX_RESULTS = 25_000
EXCERPT_CHARS = 120
_TEXT_KEYS = ("members", "text", "prompt", "response", "excerpt")
_RELATED_LINKED = 5


def render_sarif(report: dict[str, Any], *, root: str | None = None) -> str:
    """SARIF 2.1.0 with URIs relative to `root` (default: the git top level above the working folder)."""
    report = normalized(report)
    root = os.path.abspath(root) if root else repository_root()
    artifacts, artifact_index = _artifacts(report, root)
    rules, rule_index = _rules(report)
    results = []
    for r in report["results"]:
        for f in r["findings"]:
            results.append(_result(f, r, rule_index, artifact_index, root))
    rank = {"error": 0, "warning": 1, "note": 2}
    results.sort(key=lambda result: rank.get(result["level"], 3))  # stable: report order within a level
    dropped: dict[str, int] = {}
    for result in results[MAX_RESULTS:]:
        dropped[result["ruleId"]] = dropped.get(result["ruleId"], 0) + 1
    results = results[:MAX_RESULTS]
    notifications = [
        {"level": "error", "message": {"text": f"check {r['check']} failed: {r['error']}"},
         "descriptor": {"id": r["check"]}}
        for r in report["results"] if r["status"] == "error"
    ]
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    omitted = {r["check"]: r["findings_omitted"] for r in report["results"] if r["findings_omitted"]}
    run = {
        "tool": {"driver": {
            "name": report["tool"]["name"],
            "version": report["tool"]["version"],
            "semanticVersion": report["tool"]["version"],
            "rules": rules,
        }},
        "originalUriBaseIds": {"%SRCROOT%": {"description": {
            "text": "The repository root (--sarif-root, default the git top level); URIs are relative to it."}}},
        "artifacts": artifacts,
        "invocations": [invocation],
        "results": results,
        "properties": {"verdict": report["verdict"]["status"], "reasons": report["verdict"]["reasons"],
                       "cleanExamples": report["verdict"]["clean_examples"],
                       "findingsOmitted": omitted, "resultsOmitted": sum(dropped.values()),
                       "resultsOmittedByRule": dict(sorted(dropped.items()))},
    }
    sarif = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return json.dumps(sarif, indent=2, ensure_ascii=False) + "\n"


def artifact_location(path: str, root: str | None = None) -> dict[str, Any]:
    """A path inside `root` (default: `repository_root()`) as a %SRCROOT%-based relative URI; any other
    absolute one as a file:// URI."""
    root = repository_root() if root is None else root
    if PureWindowsPath(path).drive and not path.startswith("/"):
        return {"uri": "file:///" + quote(PureWindowsPath(path).as_posix())}
    absolute = os.path.normpath(os.path.join(os.getcwd(), path.replace("\\", "/")))
    inside = os.path.relpath(absolute, root) if absolute.startswith(root.rstrip("/") + "/") else None
    if inside is None:
        if path.startswith("/"):
            return {"uri": "file://" + quote(path)}
        inside = path.replace("\\", "/")  # outside the root by ../: kept as the user wrote it
    return {"uri": quote(PurePosixPath(inside).as_posix()), "uriBaseId": "%SRCROOT%"}


def repository_root() -> str:
    """The git top level above the working folder (where code scanning resolves URIs), else the folder."""
    here = os.path.abspath(os.getcwd())
    folder = here
    while True:
        if os.path.exists(os.path.join(folder, ".git")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return here
        folder = parent


def _artifacts(report: dict[str, Any], root: str) -> tuple[list[dict[str, Any]], dict[str, int]]:
    artifacts, index = [], {}
    for i in report["inputs"]:
        if i["path"] in index:
            continue
        index[i["path"]] = len(artifacts)
        entry: dict[str, Any] = {"location": artifact_location(i["path"], root), "mimeType": "application/jsonl",
                                 "roles": ["analysisTarget"], "properties": {"split": i["split"]}}
        if i.get("sha256"):
            entry["hashes"] = {"sha-256": i["sha256"]}
        artifacts.append(entry)
    return artifacts, index


def _rules(report: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """One rule per finding code present (plus each check's own code), documented from the check."""
    seen: dict[str, str] = {}
    for r in report["results"]:
        info = report["checks"].get(r["check"], {})
        for c in [info.get("code") or r["code"], *(f["code"] for f in r["findings"])]:
            seen.setdefault(c, r["check"])
    rules, index = [], {}
    for rule_id in sorted(seen):
        check = seen[rule_id]
        info = report["checks"].get(check)
        if info:
            short = info.get("title") or check
            doc = info.get("doc") or short
        else:  # the engine's own `input` results
            result = next(r for r in report["results"] if r["check"] == check)
            short = ENGINE_RULES.get(rule_id, result.get("title") or check)
            doc = short
        index[rule_id] = len(rules)
        level = next((LEVEL.get(f["severity"], "note") for r in report["results"] for f in r["findings"]
                      if f["code"] == rule_id), "warning")
        rule: dict[str, Any] = {
            "id": rule_id,
            "name": check,
            "shortDescription": {"text": short},
            "fullDescription": {"text": doc, "markdown": doc},
            "help": {"text": doc, "markdown": doc},
            "defaultConfiguration": {"level": level},
            "properties": {"check": check, "tags": ["dataset", check]},
        }
        if info and info.get("docs_url"):
            rule["helpUri"] = info["docs_url"]
        if info:
            rule["properties"]["plugin"] = info.get("plugin")
            rule["properties"]["blocking"] = info.get("blocking")
        rules.append(rule)
    return rules, index


def _physical(path: str, line: int | None, artifact_index: dict[str, int], root: str) -> dict[str, Any]:
    location = artifact_location(path, root)
    if path in artifact_index:
        location["index"] = artifact_index[path]
    physical: dict[str, Any] = {"artifactLocation": location}
    if isinstance(line, int) and line >= 1:
        physical["region"] = {"startLine": line}
    return physical


def _result(f: dict[str, Any], r: dict[str, Any], rule_index: dict[str, int],
            artifact_index: dict[str, int], root: str) -> dict[str, Any]:
    # a row of a table or an array is no line of a text file: no region (code hosts would misplace it)
    rows = f.get("unit") == "record"
    line = None if rows else f["line"]
    out: dict[str, Any] = {
        "ruleId": f["code"],
        "ruleIndex": rule_index[f["code"]],
        "level": LEVEL.get(f["severity"], "note"),
        "message": {"text": (f["message"] or f["code"]) + _related_links(f)},
        "locations": [{"physicalLocation": _physical(f["path"], line, artifact_index, root)}],
    }
    related = [{"id": n, "physicalLocation": _physical(loc["path"], None if rows and loc["path"] == f["path"]
                                                       else loc.get("line"), artifact_index, root),
                "message": {"text": f"Related line {loc.get('line')}" if loc.get("line") else "Related file"}}
               for n, loc in enumerate(f["related"], start=1)]
    if related:
        out["relatedLocations"] = related
    # by content, so an alert survives lines moving (a report without fingerprints: by place)
    identity = f.get("fingerprint") or hashlib.sha256(json.dumps(
        [f["code"], f["path"], f["line"], f["message"]], ensure_ascii=False).encode()).hexdigest()[:32]
    out["partialFingerprints"] = {"auditorFinding/v2": identity}
    properties: dict[str, Any] = {"check": f["check"], "severity": f["severity"], "blocking": r["blocking"]}
    if f.get("split"):
        properties["split"] = f["split"]
    if rows and f["line"]:
        properties["row"] = f["line"]
    if f.get("data"):
        properties["data"] = _without_text(f["data"])
    out["properties"] = properties
    return out


def _related_links(f: dict[str, Any]) -> str:
    """ Related: [line 5](1), ... : SARIF's links from a message to its relatedLocations (by id)."""
    links = [f"[line {loc['line']}]({n})" if loc.get("line") else f"[{loc['path']}]({n})"
             for n, loc in enumerate(f["related"][:_RELATED_LINKED], start=1)]
    more = len(f["related"]) - _RELATED_LINKED
    return f" Related: {', '.join(links)}" + (f" and {more:,} more" if more > 0 else "") if links else ""


def _without_text(data: dict[str, Any]) -> dict[str, Any]:
    """A finding's data without the rows' text (uploaded to code scanning): one short excerpt instead."""
    out = {k: v for k, v in data.items() if k not in _TEXT_KEYS}
    text = next((data[k] for k in ("excerpt", "text", "prompt", "response") if isinstance(data.get(k), str)), None)
    members = data.get("members")
    if text is None and isinstance(members, list) and members and isinstance(members[0], dict):
        text = next((members[0][k] for k in ("text", "prompt") if isinstance(members[0].get(k), str)), None)
    if text:
        out["excerpt"] = text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"
    return out
