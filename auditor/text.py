"""Text normalization for matching, done once and in one place (DESIGN: case, whitespace, NFKC)."""

from __future__ import annotations

import re
import unicodedata

# Unicode White_Space, spelled out: Python's `\s` and Rust's (polars) disagree on \x1c-\x1f, and the
# two functions below must give the same text.
_SPACE_CHARS = "\t\n\x0b\x0c\r\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_WHITESPACE = re.compile(f"[ {_SPACE_CHARS}]+")
# A lone space (most whitespace) is no match: collapsing with this pattern is 4x faster in polars.
_COLLAPSE = f"[ {_SPACE_CHARS}]{{2,}}|[{_SPACE_CHARS}]"


def normalize_text(text: str | None) -> str:
    """NFKC, lower-cased, whitespace collapsed to single spaces and stripped."""
    if not text:
        return ""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip(" ")


def normalize_series(series):
    """The vectorized twin of `normalize_text` for a polars string Series (nulls become "")."""
    import polars as pl

    series = series.fill_null("")
    # NFKC leaves ASCII unchanged: normalize only the non-ASCII strings (bytes != chars), which
    # are few in most datasets (NFKC is the slowest step, ~40 ns per character).
    non_ascii = (series.str.len_bytes() != series.str.len_chars()).arg_true()
    if len(non_ascii):
        series = series.scatter(non_ascii, series.gather(non_ascii).str.normalize("NFKC"))
    # As a lazy query: the streaming engine splits the strings across every core (~1.8x on two).
    return (series.to_frame().lazy()
            .select(pl.first().str.to_lowercase().str.replace_all(_COLLAPSE, " ").str.strip_chars(" ").cast(pl.String))
            .collect(engine="streaming").to_series())


def user_side():
    """A polars expression: the prompt without its system text (what the user wrote), from the columns
    `system` and `prompt` of a context frame. Normalizers put the system turns first, joined to the rest
    by one newline; a prompt that does not start with its system text is kept whole."""
    import polars as pl

    system, prompt = pl.col("system"), pl.col("prompt")
    return (pl.when(system.is_not_null() & prompt.str.starts_with(system.fill_null("")))
            .then(prompt.str.slice(system.str.len_chars() + 1)).otherwise(prompt))


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """A count as every report writes it: thousands separators, singular for one ("1 group",
    "2,551 groups")."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def visible(text: str) -> str:
    """Text that is safe to print: control characters (ESC, CR, newline, C1 codes), bidirectional and
    other invisible format characters, and line separators written as escapes (`\\x1b`, `\\n`,
    `\\u202e`), so a dataset cannot move the cursor, clear the screen, set a title, a hyperlink or
    the clipboard, start a new log line (a CI workflow command) or reorder what a reviewer reads.
    Joiners (U+200C, U+200D), which scripts and emoji need, are kept."""
    if text.isprintable():
        return text
    return "".join(_escape(ch) if unicodedata.category(ch) in _HIDDEN and ch not in _KEPT else ch for ch in text)


# control, format (bidi marks and overrides, invisible operators), line and paragraph separators, and
# lone surrogates; other spaces (no-break, thin) are harmless and stay
_HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
_KEPT = frozenset("\u200c\u200d")


def _escape(ch: str) -> str:
    code = ord(ch)
    if ch == "\n":
        return "\\n"
    if ch == "\t":
        return "\\t"
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def visible_everywhere(value):
    """`visible` applied to every string of a JSON-like value (a report), keys included."""
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, dict):
        return {visible(k) if isinstance(k, str) else k: visible_everywhere(v) for k, v in value.items()}
    if isinstance(value, list):
        return [visible_everywhere(v) for v in value]
    return value
