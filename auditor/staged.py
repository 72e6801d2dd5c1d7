"""The lines a commit adds: what the pre-commit hook holds a commit to account for.

`added_lines(paths)` reads `git diff --cached` (what the commit would record) of the given files and
returns, for each, the numbers its staged version gives the lines the commit adds or changes. Run by
`pre-commit run --from-ref A --to-ref B` (as CI runs hooks on a pull request), it reads what B adds
since it forked from A instead (pre-commit names them in PRE_COMMIT_FROM_REF and PRE_COMMIT_TO_REF). A file
git cannot diff as text (a compressed or columnar file) is absent: its findings cannot be told apart
and keep the severity rule of old ones. Outside a git work tree (or without git) it is None.
"""

from __future__ import annotations

import os
import re
import subprocess

_HUNK = re.compile(rb"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


def added_lines(paths: list[str]) -> dict[str, set[int]] | None:
    """{real path of the file: line numbers the staged change adds}, for those of `paths` git diffs as text."""
    if not paths:
        return {}
    try:
        top = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, check=True, timeout=30)
        since, until = os.environ.get("PRE_COMMIT_FROM_REF"), os.environ.get("PRE_COMMIT_TO_REF")
        what = [f"{since}...{until}"] if since and until else ["--cached"]
        diff = subprocess.run(["git", "-c", "core.quotepath=off", "diff", *what, "--unified=0", "--no-color",
                               "--no-ext-diff", "--no-renames", "--src-prefix=a/", "--dst-prefix=b/", "--",
                               *paths], capture_output=True, check=True, timeout=300)
    except (OSError, subprocess.SubprocessError):
        return None
    root = os.fsdecode(top.stdout.rstrip(b"\n"))
    return _parse(diff.stdout, root)


def _parse(patch: bytes, root: str) -> dict[str, set[int]]:
    """The added line numbers of each file of a unified diff with no context lines."""
    out: dict[str, set[int]] = {}
    lines: set[int] | None = None
    number = remaining = 0  # the next added line's number, and how many the hunk has left
    for line in patch.split(b"\n"):
        if remaining and line.startswith(b"+"):  # counted: an added line may itself start with "+++ "
            if lines is not None:
                lines.add(number)
            number += 1
            remaining -= 1
        elif line.startswith(b"+++ "):
            name = line[4:]
            # "+++ /dev/null" (a deleted file) and C-quoted names (control characters) are skipped
            lines = None if not name.startswith(b"b/") else out.setdefault(
                os.path.realpath(os.path.join(root, os.fsdecode(name[2:]))), set())
        elif line.startswith(b"@@ "):
            match = _HUNK.match(line)
            number = int(match.group(1)) if match else 0
            remaining = (1 if match.group(2) is None else int(match.group(2))) if match else 0
    return out
