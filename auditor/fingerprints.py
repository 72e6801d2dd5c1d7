"""Content fingerprints of findings: the same problem keeps its fingerprint when lines move.

A finding's fingerprint hashes its check, code and split with the matching text (system prompt,
prompt, response, label) of its own row and of up to `RELATED` related rows, never its line numbers
or its message (which names lines). A finding on a line that holds no record (a broken line) or on
a whole file hashes its message with every number masked instead. The same fingerprint twice in one
report (the same problem on two identical rows) is told apart by its occurrence (`:2`, `:3`, ...), in
report order. Baselines, waivers and SARIF's partialFingerprints all use it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from typing import Any

RELATED = 5
VERSION = 1
_NUMBER = re.compile(r"\d+")


def fingerprint_findings(ctx: Any, results: list[Any]) -> None:
    """Set `fingerprint` on every finding of `results` (CheckResults, in place)."""
    import orjson
    import xxhash

    files = {d.path: d for d in ctx.datasets}
    valid = ctx.frame["valid"].to_numpy()

    def row_of(location) -> int | None:
        data = files.get(location.path)
        if data is None or not location.line or location.line > data.lines:
            return None
        row = data.first_row + location.line - 1
        return row if valid[row] else None

    wanted = sorted({row for result in results for f in result.findings
                     for row in map(row_of, (f.location, *f.related[:RELATED])) if row is not None})
    texts = dict(zip(wanted, ctx.text_rows("prompt+response+label", wanted).to_list())) if wanted else {}
    seen: Counter[str] = Counter()
    for result in results:
        marked = []
        for f in result.findings:
            own = row_of(f.location)
            parts: list[Any] = [VERSION, f.check, f.code, f.split or ""]
            parts.append(texts[own] if own is not None else _NUMBER.sub("#", f.message))
            parts.append(sorted(texts[r] for r in map(row_of, f.related[:RELATED]) if r is not None))
            key = xxhash.xxh3_128_hexdigest(orjson.dumps(parts))[:32]
            seen[key] += 1
            marked.append(replace(f, fingerprint=key if seen[key] == 1 else f"{key}:{seen[key]}"))
        result.findings = marked
