"""Text from a dataset made safe for a terminal and a CI log: what a reviewer reads is what the row holds."""

from __future__ import annotations

import unicodedata


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
