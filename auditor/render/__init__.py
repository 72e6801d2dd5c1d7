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
    "text": "auditor.render.console:render_text",
}
ALIASES = {"md": "markdown", "htm": "html"}


def renderer(name: str) -> Callable[[dict[str, Any]], str]:
    from ..errors import ConfigError

    key = ALIASES.get(name, name)
    if key not in RENDERERS:
        raise ConfigError(f"unknown report format '{name}' (choose from {', '.join(RENDERERS)})")
    module, _, function = RENDERERS[key].partition(":")
    return getattr(import_module(module), function)
