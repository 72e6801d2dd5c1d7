"""Renderers: pure functions from the report dict (the JSON report) to text, one per output format."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

# format name -> "module:function"; modules are imported only when that format is asked for.
RENDERERS: dict[str, str] = {
    "json": "auditor.render.json_report:render_json",
    "markdown": "auditor.render.markdown:render_markdown",
    "html": "auditor.render.html:render_html",
    "sarif": "auditor.render.sarif:render_sarif",
    "full": "auditor.render.console:render_text",
    "concise": "auditor.render.lines:render_concise",
    "jsonl": "auditor.render.lines:render_jsonl",
    "github": "auditor.render.lines:render_github",
}
ALIASES = {"md": "markdown", "htm": "html", "text": "full"}
# formats one audit at a time (a document); the others are lines, several audits one after another
DOCUMENTS = frozenset({"json", "markdown", "html", "sarif"})


def canonical(name: str) -> str:
    return ALIASES.get(name, name)


def renderer(name: str) -> Callable[[dict[str, Any]], str]:
    from ..errors import ConfigError

    key = canonical(name)
    if key not in RENDERERS:
        raise ConfigError(f"unknown report format '{name}' (choose from {', '.join(RENDERERS)})")
    module, _, function = RENDERERS[key].partition(":")
    return getattr(import_module(module), function)
