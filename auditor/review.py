"""Living with known findings: a baseline (an earlier JSON report) and waivers accept findings by their
content fingerprint (see auditor.fingerprints), so a data repository with accepted problems can pass
CI until a new problem arrives.

`review(report, baseline=..., waivers=...)` marks every finding `new`, `baseline` (the baseline holds
its fingerprint) or `waived` (an unexpired waiver names it, with its reason), and adds the report's
`review`: the counts (new, baseline, waived, fixed: in the baseline, gone now), the waivers that have
expired, the verdict reasons now accepted, and the `status` that gates the run: NOT READY only for a
reason that is not accepted. A check's reason is accepted when every error finding it has is accepted;
any other reason (too few clean examples, no eval set) when the baseline's verdict gave it too
(numbers aside). Waived findings are shown as waived, never dropped. The verdict itself is unchanged:
the data is what it is; the review says what is new.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError

WAIVERS_FILE = "auditor-waivers.toml"
BASELINE_FILE = "auditor-baseline.json"  # what `auditor baseline write` writes, read when present
BASELINE_KIND = "dataset-auditor baseline"
_NUMBER = re.compile(r"\d[\d,.]*")


@dataclass(frozen=True)
class Waiver:
    fingerprint: str
    reason: str
    expires: datetime.date | None = None


def baseline_document(audits: list[tuple[str | None, dict[str, Any]]]) -> str:
    """The file `auditor baseline write` writes: for each (name, report) audit, its train files, verdict
    reasons and every finding's fingerprint, with its code and place for a reader, in report order."""
    import orjson

    from .version import __version__

    entries = [{"name": name, "train": [e["path"] for e in report["inputs"] if e["split"] == "train"],
                "verdict": {"status": report["verdict"]["status"], "reasons": report["verdict"]["reasons"]},
                "results": [{"check": r["check"], "findings": [
                    {"fingerprint": f.get("fingerprint"), "code": f["code"], "path": f["path"], "line": f["line"]}
                    for f in r["findings"]]} for r in report["results"]]}
               for name, report in audits]
    document = {"kind": BASELINE_KIND, "version": 1, "tool": {"name": "dataset-auditor", "version": __version__},
                "audits": entries}
    return orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n"


def baseline_for(baseline: dict[str, Any], name: str | None, train: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """The part of a loaded baseline for one audit: a JSON report applies to every audit; a baseline
    file's entry is found by the dataset's name (an unnamed audit by its train files). An audit the
    file does not know has no accepted findings."""
    if baseline.get("kind") != BASELINE_KIND:
        return baseline
    for entry in baseline["audits"]:
        if entry.get("name") == name and (name is not None or list(entry.get("train", [])) == list(train)):
            return entry
    return {"results": [], "verdict": {"reasons": []}}


def load_baseline(path: str) -> dict[str, Any]:
    """A baseline file (`auditor baseline write`) or an earlier JSON report (`auditor audit --report
    json --output FILE`)."""
    import orjson

    try:
        with open(path, "rb") as handle:
            report = orjson.loads(handle.read())
    except FileNotFoundError:
        raise ConfigError(f"{path}: baseline not found (write one with --report json --output {path})") from None
    except (OSError, orjson.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: not a JSON report: {exc}") from None
    if isinstance(report, dict) and report.get("kind") == BASELINE_KIND:
        if report.get("version") != 1 or not isinstance(report.get("audits"), list) or not all(
                isinstance(a, dict) and isinstance(a.get("results"), list) for a in report["audits"]):
            raise ConfigError(f"{path}: a baseline this version cannot read (write it again: auditor baseline write)")
        return report
    if not isinstance(report, dict) or not isinstance(report.get("results"), list):
        raise ConfigError(f"{path}: not a JSON report of auditor audit")
    return report


def load_waivers(path: str) -> list[Waiver]:
    """The `[[waiver]]` tables of a TOML file: `fingerprint`, `reason` (both required), `expires` (a date)."""
    from .config import tomllib

    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: waivers file not found") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    unknown = sorted(set(data) - {"waiver"})
    if unknown:
        raise ConfigError(f"{path}: unknown key '{unknown[0]}' (waivers are [[waiver]] tables)")
    out = []
    for i, entry in enumerate(data.get("waiver", []), start=1):
        where = f"{path}: waiver {i}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: must be a table with fingerprint and reason")
        fingerprint, reason, expires = entry.get("fingerprint"), entry.get("reason"), entry.get("expires")
        if not isinstance(fingerprint, str) or not fingerprint:
            raise ConfigError(f"{where}: 'fingerprint' must be a finding's fingerprint (see the JSON report)")
        if not isinstance(reason, str) or not reason.strip():
            raise ConfigError(f"{where}: 'reason' must say why the finding is accepted")
        if isinstance(expires, str):
            try:
                expires = datetime.date.fromisoformat(expires)
            except ValueError:
                raise ConfigError(f"{where}: 'expires' must be a date (2027-01-31)") from None
        if expires is not None and not isinstance(expires, datetime.date):
            raise ConfigError(f"{where}: 'expires' must be a date (2027-01-31)")
        unknown = sorted(set(entry) - {"fingerprint", "reason", "expires"})
        if unknown:
            raise ConfigError(f"{where}: unknown key '{unknown[0]}'")
        out.append(Waiver(fingerprint, reason.strip(), expires))
    return out


def review(report: dict[str, Any], *, baseline: dict[str, Any] | None = None, waivers: list[Waiver] = (),
           baseline_path: str | None = None, today: datetime.date | None = None) -> dict[str, Any]:
    """Mark the report's findings and add its `review` (see the module); returns the report."""
    today = today or datetime.date.today()
    active = {w.fingerprint: w for w in waivers if w.expires is None or w.expires >= today}
    expired = [w for w in waivers if w.expires is not None and w.expires < today]
    known = {f.get("fingerprint") for r in (baseline or {}).get("results", []) for f in r.get("findings", [])}
    known.discard(None)
    counts = {"new": 0, "baselined": 0, "waived": 0}
    current = set()
    accepted_checks = {}
    for result in report["results"]:
        errors_accepted = None
        for f in result["findings"]:
            fingerprint = f.get("fingerprint", "")
            current.add(fingerprint)
            if fingerprint in active:
                f["review"], f["waiver"] = "waived", active[fingerprint].reason
            elif baseline is not None and fingerprint in known:
                f["review"] = "baseline"
            else:
                f["review"] = "new"
            counts["baselined" if f["review"] == "baseline" else f["review"]] += 1
            if f["severity"] == "error":
                errors_accepted = (errors_accepted is not False) and f["review"] != "new"
        accepted_checks[result["check"]] = bool(errors_accepted) and not result.get("findings_omitted")
    old_reasons = {_masked(r) for r in (baseline or {}).get("verdict", {}).get("reasons", [])}
    accepted, remaining = [], []
    for reason in report["verdict"]["reasons"]:
        check = reason.partition(": ")[0]
        ok = accepted_checks.get(check) if check in accepted_checks else (baseline is not None
                                                                             and _masked(reason) in old_reasons)
        (accepted if ok else remaining).append(reason)
    status = report["verdict"]["status"]
    if status == "not_ready" and not remaining:
        status = "ready_with_warnings"  # accepted problems remain: never plain READY
    report["review"] = {
        "baseline": baseline_path, **counts,
        "fixed": len(known - current) if baseline is not None else 0,
        "waivers": len(waivers),
        "expired_waivers": [{"fingerprint": w.fingerprint, "reason": w.reason, "expires": w.expires.isoformat()}
                            for w in expired],
        "accepted_reasons": accepted, "reasons": remaining, "status": status,
    }
    return report


def _masked(reason: str) -> str:
    return _NUMBER.sub("#", reason)


def summary_line(report: dict[str, Any]) -> str:
    """One line for the terminal: what the review found."""
    r = report["review"]
    parts = [f"{r['new']:,} new"]
    if r["baseline"] is not None:
        parts += [f"{r['baselined']:,} in the baseline", f"{r['fixed']:,} fixed since"]
    parts.append(f"{r['waived']:,} waived")
    line = "Review: " + ", ".join(parts)
    if r["expired_waivers"]:
        line += f"; {len(r['expired_waivers']):,} waivers expired"
    if r["accepted_reasons"]:
        line += f"; accepted: {len(r['accepted_reasons']):,} of the verdict's reasons"
    return line + f" -> {r['status'].replace('_', ' ').upper()}\n"
