"""Writing what a command produces: whole or not at all, and never over a file the command reads."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

from .app import fail


def write_output(path: str, text: str) -> None:
    """Write an output whole or not at all: a temporary file beside it, then renamed over it."""
    import os
    import tempfile

    if path == "-":
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except OSError as exc:
            fail(f"cannot write to standard output: {exc.strerror or exc}")
        return
    target = Path(path)
    temporary = None
    try:
        if target.exists() and not target.is_file():  # a device or a pipe: written to, never replaced
            with open(target, "w", encoding="utf-8") as out:
                out.write(text)
            return
        handle, temporary = tempfile.mkstemp(dir=target.parent if str(target.parent) else ".",
                                             prefix=f".{target.name}.", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, target)
        temporary = None
    except OSError as exc:
        fail(f"{path}: cannot write: {exc.strerror or exc}")  # fail makes names printable
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def refuse_overwrites(outputs: list[str], protected: list[str]) -> None:
    """Exit 2 when an output path is an input, schema or config file (by any name: ./, symlinks, hard
    links), or when two outputs are one file: an audit never destroys what it reads."""
    import os

    def identity(path: str):
        try:
            info = os.stat(path)
            return ("inode", info.st_dev, info.st_ino)
        except OSError:
            return ("path", os.path.realpath(path))

    kept = {}
    for path in protected:
        if path and path != "-":
            kept[identity(path)] = path
    seen = {}
    for path in outputs:
        if path == "-":
            continue
        key = identity(path)
        if key in kept:
            fail(f"--output {path} would overwrite the input {kept[key]}")
        if key in seen:
            fail(f"--output {path} is given twice (also as {seen[key]})")
        seen[key] = path


def report_renderer(name: str, link_base: str | None = None, sarif_root: str | None = None):
    """The renderer of a report format; Markdown links findings to their lines at `link_base`, else at
    the commit GitHub Actions is running on (see `github_link_base`); SARIF's URIs are relative to
    `sarif_root` (default: the git top level)."""
    from functools import partial

    from ..render import canonical, renderer

    render = renderer(name)
    if canonical(name) == "markdown":
        return partial(render, link_base=link_base or github_link_base())
    if canonical(name) == "sarif" and sarif_root:
        if not os.path.isdir(sarif_root):
            fail(f"--sarif-root {sarif_root}: not a folder")
        return partial(render, root=sarif_root)
    return render


def github_link_base() -> str | None:
    """https://github.com/OWNER/REPO/blob/SHA under GitHub Actions: the pull request's head commit (the
    lines a reviewer reads), else the commit the workflow runs on."""
    import json
    import os

    server, repository = os.environ.get("GITHUB_SERVER_URL"), os.environ.get("GITHUB_REPOSITORY")
    sha = os.environ.get("GITHUB_SHA")
    if not (server and repository and sha):
        return None
    try:
        with open(os.environ.get("GITHUB_EVENT_PATH", ""), encoding="utf-8") as handle:
            head = json.load(handle).get("pull_request", {}).get("head", {}).get("sha")
        sha = head if isinstance(head, str) and head.isalnum() else sha
    except (OSError, ValueError, AttributeError):
        pass
    return f"{server.rstrip('/')}/{repository}/blob/{sha}"
