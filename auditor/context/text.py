"""Text normalization for matching, done once and in one place (DESIGN: case, whitespace, NFKC)."""

from __future__ import annotations

import re
import unicodedata

_TEXT_SLICE = 100_000  # rows normalized at a time by `matching_text`
_DISTINCT_AT_LEAST = 1_000  # rows from which `normalize_series` looks for copies

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
    series = series.fill_null("")
    if len(series) >= _DISTINCT_AT_LEAST and series.n_unique() * 2 <= len(series):
        # Mostly copies (a template answer, a million identical rows): normalize each distinct text once
        # and gather; the gathered views share the distinct texts' bytes instead of holding a copy each.

        distinct = series.unique(maintain_order=True)
        at = (series.to_frame("text")
              .join(distinct.to_frame("text").with_row_index("at"), on="text", how="left", maintain_order="left"))
        return _normalized(distinct).gather(at["at"]).rename(series.name)
    return _normalized(series)


def _normalized(series):
    import polars as pl

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


def matching_text(frame, parts: list[str]):
    """Normalized text of `parts` joined by newlines; `input` is the prompt without its system text.

    Each part is normalized on its own and the parts joined by `join_normalized`, which gives the same
    text as normalizing the joined parts (see there): a part shared by several selections (`input` in
    `input` and `input+response`) can then be normalized once per audit (AuditContext.text)."""
    return join_normalized([_matching_part(frame, part) for part in parts])


def _matching_part(frame, part: str):
    import polars as pl

    column = user_side() if part == "input" else pl.col("tool_specs" if part == "tools" else part)
    # Slice by slice, so the text and normalization temporaries exist for one slice at a time
    # (a million chat rows: ~1 GB of text, which would otherwise be copied four times at once).
    pieces = [normalize_series(frame.slice(lo, _TEXT_SLICE).lazy().select(column.alias("text"))
                               .collect(engine="streaming")["text"])
              for lo in range(0, max(frame.height, 1), _TEXT_SLICE)]
    return pieces[0] if len(pieces) == 1 else pl.concat(pieces, rechunk=False)


def join_normalized(texts: list):
    """The normalized texts of parts (row-aligned Series) as the normalized text of the parts joined by
    newlines: the non-empty ones joined by one space.

    The same as normalizing the joined text: NFKC and lower case act on each side of a newline alone
    (a newline is a normalization boundary and breaks the final-sigma context), and whitespace at the
    seams collapses into the one space between non-empty parts, or into the strip when a part is empty.
    """
    import polars as pl

    # A part empty on every row (no functions offered, no system prompts) adds nothing to any row: the
    # others' join is the answer, and with one part left it is that part's own bytes, not a copy.
    texts = [text for text in texts if text.str.len_bytes().sum()] or texts[:1]
    if len(texts) == 1:
        return texts[0].rename("text")
    columns = {f"p{i}": text for i, text in enumerate(texts)}
    joined = pl.col("p0")
    for i in range(1, len(texts)):
        part = pl.col(f"p{i}")
        joined = (pl.when(joined == "").then(part).when(part == "").then(joined)
                  .otherwise(pl.concat_str([joined, part], separator=" ")))
    pieces = []
    height = len(texts[0])
    frame = pl.DataFrame(columns)
    for lo in range(0, max(height, 1), _TEXT_SLICE):
        pieces.append(frame.slice(lo, _TEXT_SLICE).lazy().select(joined.alias("text"))
                      .collect(engine="streaming")["text"])
    return pieces[0] if len(pieces) == 1 else pl.concat(pieces, rechunk=False)


def prompt_of_sides(frame, system, user):
    """The matching text of `prompt` for the rows of `frame` (columns `system` and `prompt`), made from
    the matching texts of its sides, `system` and `user` (the `input` part): the same text as
    normalizing the prompt itself (`matching_text(frame, ["prompt"])`), without normalizing it again.

    A prompt that is its system text, a newline and its user side is the two joined (see
    `join_normalized`); a prompt that does not start with its system text (or has none) is its user
    side whole (see `user_side`); the rare rest (a system text not followed by a newline) is
    normalized itself.
    """
    import polars as pl

    s, p = pl.col("system"), pl.col("prompt")
    starts = s.is_not_null() & p.str.starts_with(s.fill_null(""))
    kind = frame.select(pl.when(~starts.fill_null(False)).then(0)
                        .when(p.str.slice(s.str.len_chars(), 1) == "\n").then(1).otherwise(2)
                        .cast(pl.Int8).alias("kind"))["kind"]
    user = user.rename("text")
    if not (kind != 0).any():  # no prompt opens with a system text: each is its user side (the same bytes)
        return user
    joined = join_normalized([system, user])
    if (kind == 1).all():
        return joined
    text = (pl.DataFrame({"kind": kind, "joined": joined, "user": user})
            .select(pl.when(pl.col("kind") == 1).then("joined").otherwise("user").alias("text")).to_series())
    odd = (kind == 2).arg_true()
    if len(odd):
        text = text.scatter(odd, _matching_part(frame.select(pl.col("prompt").gather(odd)), "prompt"))
    return text
