"""Text normalization for matching, done once and in one place (DESIGN: case, whitespace, NFKC)."""

from __future__ import annotations

import re
import unicodedata

_WHITESPACE = re.compile(r"\s+")


def normalize_text(text: str | None) -> str:
    """NFKC, lower-cased, whitespace collapsed to single spaces and stripped."""
    if not text:
        return ""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()


def normalize_series(series):
    """The vectorized twin of `normalize_text` for a polars string Series (nulls become "")."""
    import polars as pl

    return (
        series.fill_null("")
        .str.normalize("NFKC")
        .str.to_lowercase()
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
        .alias(series.name)
    ).cast(pl.String)
