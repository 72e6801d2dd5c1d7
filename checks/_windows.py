"""Word n-gram windows of texts, hashed: what the `leakage` check's n-gram detector matches on.

A helper module of the leakage check (not a check: the entry point group names the checks).
"""

from __future__ import annotations

from auditor import similarity

_HASH_ROWS = 50_000  # texts whose words are split and hashed at a time

_P = 0x100000001B3  # FNV prime: the base of the rolling polynomial over word hashes
_PAD = 0x5851F42D4C957F2D  # stands for "no word here" in the single window of a row shorter than n


def window_artefacts(ctx, text, n):
    """The word windows of every frame row: a List(UInt64) polars Series aligned with `ctx.frame`.

    Row-aligned and row-local, so the incremental cache keeps it per block of lines (an edited line
    rehashes its block only); the key carries the polars version because word hashes come from
    polars' string hash, which is stable within a version only.
    """
    import polars as pl

    def build(frame):  # a file, or a run of its blocks
        return window_hashes(ctx.text_of(text, frame), n)

    return ctx.per_file(("ngram-windows", text, n, pl.__version__), build)


def windows_of_rows(ctx, text, n, rows):
    """`window_hashes` of some rows (row ids), hashed now: for the small side of a comparison."""
    return window_hashes(ctx.text_rows(text, rows), n)


def matching_windows(ctx, text, n, wanted, scan_windows):
    """For every frame row, its windows found in `wanted` (distinct window hashes: those of the eval
    rows), in window order: a List(UInt64) Series aligned with `ctx.frame`.

    Kept per block of lines under the digest of `wanted`, so a re-run whose eval rows are unchanged
    scans only the train blocks an edit touched: an edited run of blocks hashes its own rows, a whole
    file is scanned from `window_artefacts` (kept per block too, so an edit of the eval rows rehashes
    nothing), `scan_windows` windows at a time. Without a cache nothing is kept between runs: each
    slice's windows are hashed, scanned and dropped.
    """
    import numpy as np
    import polars as pl
    import xxhash

    hashes = np.unique(wanted.to_numpy().astype(np.uint64))
    lookup = pl.Series("wanted", hashes).implode()

    def build(frame):  # a file, a slice of one, or a run of its blocks
        if not (ctx.persistent and ctx.building_whole(frame)):
            # hashed where they are scanned, never held as lists for every row
            parts = []
            for flat, per_row in _flat_windows(ctx.text_of(text, frame), n):
                keep = pl.Series(flat).is_in(lookup).to_numpy()
                owner = np.repeat(np.arange(len(per_row)), per_row)
                parts.append(_lists(flat[keep], np.bincount(owner[keep], minlength=len(per_row))))
            if not parts:
                return _lists(np.zeros(0, np.uint64), np.zeros(0, np.int64))
            return pl.concat(parts) if len(parts) > 1 else parts[0]
        windows = window_artefacts(ctx, text, n).slice(frame["row"][0], frame.height)
        counts = windows.list.len().fill_null(0).to_numpy()
        parts = []
        for start, stop in scan_slices(counts, scan_windows) or [(0, 0)]:
            flat = windows.slice(start, stop - start).explode().drop_nulls()
            keep = flat.is_in(lookup).to_numpy()
            owner = np.repeat(np.arange(stop - start), counts[start:stop])
            kept = np.bincount(owner[keep], minlength=stop - start)
            parts.append(_lists(flat.filter(keep).to_numpy(), kept))
        return pl.concat(parts) if len(parts) > 1 else parts[0]

    # built here: it reads the window artefact, which another engine's workers do not hold
    return ctx.per_file(("ngram-matches", text, n, pl.__version__, xxhash.xxh3_128_hexdigest(hashes.tobytes())),
                        build, remote=False)


def window_hashes(texts, n):
    """Hashes of every window of `n` consecutive words (\\w+ runs) of each text, one list per text.

    Each word is hashed once (polars); window hashes are a polynomial over word hashes computed with
    numpy (Horner's rule over the n positions, wrapping mod 2**64), then avalanched. A text of 1..n-1
    words has one window: its whole word sequence padded to n; a text without words has none.
    Returns a Series "windows" of dtype List(UInt64) aligned with `texts`, each list in window order;
    repeated windows of one text are kept (dropped after the join).
    """
    import polars as pl

    parts = [_lists(flat, per_row) for flat, per_row in _flat_windows(texts, n)]
    if not parts:
        return pl.Series("windows", [], dtype=pl.List(pl.UInt64))
    return pl.concat(parts) if len(parts) > 1 else parts[0]


def _flat_windows(texts, n):
    """`window_hashes` `_HASH_ROWS` texts at a time, as (window hashes in row order, windows per row)."""
    import numpy as np
    import polars as pl

    for start in range(0, len(texts), _HASH_ROWS):
        # as a streaming query: polars cuts the texts into morsels on every core (~2x on two). The \w+ runs
        # are what is left between spaces once every other character is a space: measured 1.8x faster
        # than extract_all(r"\w+"), the same words. Doubled spaces leave empty pieces, dropped here.
        pieces = (texts.slice(start, _HASH_ROWS).rename("text").to_frame().lazy()
                  .select(pl.col("text").str.replace_all(r"[^\w ]+", " ").str.split(" "))
                  .collect(engine="streaming").to_series())
        lengths = pieces.list.len().fill_null(0).to_numpy().astype(np.int64)
        flat = pieces.explode().drop_nulls()
        del pieces
        empty = (flat.str.len_bytes() == 0).to_numpy()
        if empty.any():
            lengths -= np.bincount(np.repeat(np.arange(len(lengths)), lengths)[empty], minlength=len(lengths))
            flat = flat.filter(pl.Series(~empty))
        word_hash = flat.hash(seed=0x6C65616B).to_numpy()  # "leak"
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        # Every start position of the chunk's flat word array is hashed with contiguous slices (no index
        # arrays); a row of L >= n words keeps the L - n + 1 starts whose window stays inside it.
        count = max(len(word_hash) - n + 1, 0)
        hashes = np.zeros(count, dtype=np.uint64)
        with np.errstate(over="ignore"):
            for j in range(n):
                hashes *= np.uint64(_P)
                hashes += word_hash[j:j + count]
        # rows shorter than the window: one padded whole-text window, appended after the starts
        short = np.flatnonzero((lengths > 0) & (lengths < n))
        short_hash = np.zeros(len(short), dtype=np.uint64)
        if len(short):
            last = max(len(word_hash) - 1, 0)
            with np.errstate(over="ignore"):
                for j in range(n):
                    token = np.where(j < lengths[short], word_hash[np.minimum(offsets[short] + j, last)],
                                     np.uint64(_PAD))
                    short_hash *= np.uint64(_P)
                    short_hash += token
            hashes = np.concatenate([hashes, short_hash])
        # The windows in row order: row r's k-th window is hashes[source[r] + k].
        per_row = np.where(lengths >= n, lengths - n + 1, (lengths > 0).astype(np.int64))
        source = offsets[:-1].copy()
        source[short] = count + np.arange(len(short), dtype=np.int64)
        ends = np.cumsum(per_row)
        index = np.repeat(source - (ends - per_row), per_row) + np.arange(ends[-1], dtype=np.int64)
        yield similarity.fmix64(hashes[index]), per_row


def _lists(values, counts):
    """`values` (uint64, in row order) cut into one list per row of `counts[i]` values: a List Series."""
    import numpy as np
    import polars as pl

    rows = pl.Series("row", np.repeat(np.arange(len(counts), dtype=np.uint32), counts)).set_sorted()
    # grouping rows that are sorted (and flagged so) only cuts the value column at the row changes
    lists = (pl.DataFrame({"row": rows, "windows": values})
             .group_by("row", maintain_order=True).agg("windows")["windows"])
    if lists.len() < len(counts):  # rows without windows: an empty list each, appended once and gathered
        has = counts > 0
        index = np.where(has, np.cumsum(has) - 1, lists.len())
        lists = pl.concat([lists, pl.Series("windows", [[]], dtype=pl.List(pl.UInt64))]).gather(index)
    return lists


def row_windows(lists, rows, positions=False):
    """A (row, hash) frame of the windows in `lists`, whose entry i holds the windows of frame row rows[i];
    with `positions`, (row, pos, hash): pos is the window's first word in its row."""
    import numpy as np
    import polars as pl

    counts = lists.list.len().fill_null(0).to_numpy()
    # explode gives a null for an empty list; window hashes themselves are never null
    columns = {"row": np.repeat(rows, counts)}
    if positions:
        starts = np.cumsum(counts) - counts
        columns["pos"] = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(starts, counts)
    columns["hash"] = lists.explode().drop_nulls()
    return pl.DataFrame(columns)


def scan_slices(counts, size):
    """(start, stop) ranges of consecutive rows of about `size` windows each, given windows per row."""
    import numpy as np

    ends = np.cumsum(counts)
    total = int(ends[-1]) if len(ends) else 0
    cuts = np.searchsorted(ends, np.arange(size, total, size), side="right")
    bounds = np.unique(np.concatenate([[0], cuts, [len(counts)]]))
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]
