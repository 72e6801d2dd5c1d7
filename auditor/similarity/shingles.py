"""Shingles: every text hashed into its set of word n-grams (character n-grams for short texts), and
the exact Jaccard similarity of two such sets. Vectorized: polars splits and hashes the words of a
whole chunk, numpy combines them into n-grams; no per-row Python."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

import numpy as np

_U64 = np.uint64
_MASK32 = _U64(0xFFFFFFFF)
# Odd multipliers (golden ratio / murmur / splitmix constants) for the polynomial hashes.
_K_CHAR = _U64(0x9E3779B97F4A7C15)
_NGRAM_MULTS = np.array(
    [0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9,
     0x94D049BB133111EB, 0xD6E8FEB86659FD93, 0xA0761D6478BD642F, 0xE7037ED1A0B428DB],
    dtype=np.uint64,
)
_PAD = _U64(0x5851F42D4C957F2D)  # stands for "past the end" in char grams of very short texts
# Texts per shingling chunk: large enough to amortize the polars calls, small enough that the
# exploded words of a chunk (~3M for chat records) stay a few tens of MB.
_CHUNK_TEXTS = 16384

_lock = threading.Lock()
_char_tables: dict[int, np.ndarray] = {}


def _fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3 64-bit finalizer (bijective avalanche), in place on a uint64 array."""
    h ^= h >> _U64(33)
    h *= _U64(0xFF51AFD7ED558CCD)
    h ^= h >> _U64(33)
    h *= _U64(0xC4CEB9FE1A85EC53)
    h ^= h >> _U64(33)
    return h


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3 32-bit finalizer, identical to datasketch's ``_fmix(hv, 32)``."""
    h = h.astype(np.uint32, copy=True)
    h ^= h >> np.uint32(16)
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    h ^= h >> np.uint32(16)
    return h


def _seed_mix(seed: int, salt: int) -> np.uint64:
    """A 64-bit constant derived from (seed, salt), so each seed gives independent hashes."""
    v = np.array([(seed * 0x9E3779B97F4A7C15 + salt * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF], np.uint64)
    return _fmix64(v)[0]


def _get_char_table(seed: int) -> np.ndarray:
    """Seeded random 64-bit value per code point (the 'hash' of one character)."""
    with _lock:
        tab = _char_tables.get(seed)
        if tab is None:
            tab = np.arange(0x110000, dtype=np.uint64)
            tab ^= _seed_mix(seed, 1)
            tab = _fmix64(tab)
            tab |= _U64(1)  # never 0, so that no character is "invisible" in the polynomial
            _char_tables[seed] = tab
        return tab


# --------------------------------------------------------------------------- shingling


def hash_version() -> str:
    """What shingle hashes depend on besides the text and seed: word hashes come from polars'
    ``Series.hash``, which is stable within one polars version only (put this in cache keys)."""
    import polars as pl

    return f"shingles-2/polars-{pl.__version__}"


def as_series(texts):
    """A polars String Series (nulls -> "") from a list/tuple of str (None allowed) or a Series."""
    import polars as pl

    if isinstance(texts, pl.Series):
        series = texts.cast(pl.String)
    else:
        series = pl.Series("text", [t if t is not None else "" for t in texts], dtype=pl.String)
    return series.fill_null("")


def _char_grams(texts: list[str], char_ngram: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Character ``char_ngram``-gram hashes of a few texts (one shingle if shorter): (text index, uint32 hash)."""
    n = len(texts)
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=n)
    cps = np.frombuffer("\x00".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    text_start = np.zeros(n, np.int64)
    np.cumsum(lengths[:-1] + 1, out=text_start[1:])
    nwin = np.maximum(lengths - char_ngram + 1, 1)
    win_row = np.repeat(np.arange(n), nwin)
    first = np.zeros(n, np.int64)
    np.cumsum(nwin[:-1], out=first[1:])
    win_pos = np.repeat(text_start - first, nwin) + np.arange(int(nwin.sum()))
    win_len = np.repeat(lengths, nwin)
    ctab = _get_char_table(seed)
    acc = np.zeros(len(win_pos), np.uint64)
    for j in range(char_ngram):
        inside = j < win_len
        val = np.where(inside, ctab[cps[np.minimum(win_pos + j, len(cps) - 1)]], _PAD)
        acc += val * _NGRAM_MULTS[j % len(_NGRAM_MULTS)] ^ _U64(j + 101)
    acc ^= _seed_mix(seed, 4)
    return win_row, (_fmix64(acc) >> _U64(32)).astype(np.uint32)


def _word_hashes(series, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The words (`\\w+` runs) of every text, hashed: (words per text int64, uint64 hashes in text order)."""
    n = len(series)
    # found and hashed by polars (Rust) on the whole chunk at once: non-word characters become spaces,
    # split, explode, drop the empty pieces, hash.
    pieces = series.str.replace_all(r"[^\w ]+", " ").str.split(" ")
    flat = pieces.explode().drop_nulls()
    empty = (flat.str.len_bytes() == 0).to_numpy()
    per_text = pieces.list.len().fill_null(0).to_numpy().astype(np.int64)
    words = flat.hash(seed).to_numpy()
    del pieces, flat
    if empty.any():
        # Empty pieces (around punctuation, or an empty text) are not words.
        per_text = per_text - np.bincount(np.repeat(np.arange(n), per_text)[empty], minlength=n)
        words = words[~empty]
    return per_text, words


def _word_grams(w_count: np.ndarray, words: np.ndarray, ngram: int) -> tuple[np.ndarray, np.ndarray]:
    """Word n-gram hashes of texts of `w_count` words each (`words` in text order): (n-grams per text,
    uint32 hashes in text order).

    A fixed-weight combination of n consecutive (already well mixed) word hashes, top 32 bits, only for
    windows that do not cross a text boundary (arithmetic on the exploded array; MinHash applies its
    own 32-bit finalizer to every shingle hash)."""
    nw = len(words)
    g_count = np.maximum(w_count - (ngram - 1), 0)
    if nw < ngram:
        return g_count, np.zeros(0, np.uint32)
    m = nw - ngram + 1
    acc = words[:m] * _NGRAM_MULTS[0]
    tmp = np.empty_like(acc)
    for j in range(1, ngram):
        np.multiply(words[j : j + m], _NGRAM_MULTS[j % len(_NGRAM_MULTS)], out=tmp)
        acc += tmp
    del tmp
    acc >>= _U64(32)
    g_hash = acc.astype(np.uint32)
    del acc
    if ngram > 1:
        # Windows starting in the last ngram-1 words of a text cross into the next one.
        ends = np.cumsum(w_count)
        valid = np.ones(m, bool)
        for j in range(1, ngram):
            start = ends - j
            valid[start[(w_count >= j) & (start < m)]] = False
        g_hash = g_hash[valid]
    return g_count, g_hash


def seam_grams(first: tuple[np.ndarray, np.ndarray], second: tuple[np.ndarray, np.ndarray],
               ngram: int) -> tuple[np.ndarray, np.ndarray]:
    """The word n-grams of each text of `first` joined to the same row's text of `second` that hold words
    of both: (n-grams per row, uint32 hashes in row order). Each side is (words per text, word hashes)
    from `_word_hashes`. The joined text's word n-grams are then exactly those of `first`, those of
    `second` and these."""
    (count_a, words_a), (count_b, words_b) = first, second
    # A window holding words of both sides holds at most ngram - 1 of either: the last ones of the first
    # side and the first ones of the second. Those words, side by side, are a short text whose every
    # n-gram crosses the seam.
    tail = np.minimum(count_a, ngram - 1)
    head = np.minimum(count_b, ngram - 1)
    both = tail + head
    before = np.cumsum(both) - both
    tail_at = np.cumsum(count_a) - tail  # where each row's tail starts among the first side's words
    head_at = np.cumsum(count_b) - count_b
    seam = np.empty(int(both.sum()), np.uint64)
    within = np.arange(int(tail.sum())) - np.repeat(np.cumsum(tail) - tail, tail)
    seam[np.repeat(before, tail) + within] = words_a[np.repeat(tail_at, tail) + within]
    within = np.arange(int(head.sum())) - np.repeat(np.cumsum(head) - head, head)
    seam[np.repeat(before + tail, head) + within] = words_b[np.repeat(head_at, head) + within]
    return _word_grams(both, seam, ngram)


def _shingle_chunk(series, ngram: int, char_ngram: int, seed: int, unique: bool,
                   words: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Shingle one chunk of texts; returns (per-text counts int64, uint32 hashes grouped by text).
    `words`: the chunk's `_word_hashes`, when the caller has them already."""
    n = len(series)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.uint32)
    w_count, words = _word_hashes(series, seed) if words is None else words
    g_count, g_hash = _word_grams(w_count, words, ngram)
    del words

    # --- character n-grams for non-empty texts with too few words (short classification texts).
    # A text has either word n-grams or character n-grams, never both.
    fb = np.flatnonzero((w_count < ngram) & (series.str.len_bytes().to_numpy() > 0))
    if len(fb):
        c_idx, c_hash = _char_grams(series.gather(fb).to_list(), char_ngram, seed)
        c_text = fb[c_idx]
        counts = g_count + np.bincount(c_text, minlength=n)
        hashes = np.empty(len(g_hash) + len(c_hash), np.uint32)
        is_char = np.repeat(np.isin(np.arange(n), fb), counts)
        hashes[~is_char] = g_hash
        hashes[is_char] = c_hash
    else:
        counts, hashes = g_count, g_hash
    if not unique or len(hashes) == 0:
        return counts, hashes
    key = np.repeat(np.arange(n, dtype=np.uint64), counts) << _U64(32)
    key |= hashes
    key.sort()
    # Sets: drop repeats of the same (text, shingle) pair.
    keep = np.empty(len(key), bool)
    keep[0] = True
    np.not_equal(key[1:], key[:-1], out=keep[1:])
    key = key[keep]
    counts = np.bincount((key >> _U64(32)).astype(np.int64), minlength=n)
    return counts, (key & _MASK32).astype(np.uint32)



def iter_chunks(texts, size: int) -> Iterable[tuple[int, Any]]:
    for lo in range(0, len(texts), size):
        yield lo, texts[lo : lo + size]


def shingle_hashes(texts, *, ngram: int = 3, char_ngram: int = 5, seed: int = 1,
                   unique: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Hash every text into its set of shingles.

    Words are ``\\w+`` runs (Unicode word characters, polars/Rust regex semantics). A text with
    at least ``ngram`` words yields its word ``ngram``-grams; a shorter non-empty text yields
    character ``char_ngram``-grams (or one shingle for the whole text if it is shorter than
    that); an empty or null text yields no shingle. Words are split and hashed by polars over
    the whole chunk (``Series.hash(seed)``, stable within one polars version, see
    :func:`hash_version`), n-grams are combined arithmetically with numpy: no per-row Python.

    Args:
        texts: Already normalized strings: a polars Series or a list (nulls are empty).
        ngram: Words per shingle.
        char_ngram: Characters per shingle in the short-text fallback.
        seed: Hash seed.
        unique: Sort each text's hashes and drop repeats (sets, needed for exact Jaccard).
            MinHash does not need it (min is idempotent), so signatures skip the sort.

    Returns:
        ``(offsets, hashes)``: CSR layout, ``hashes[offsets[i]:offsets[i+1]]`` are the uint32
        shingle hashes of text ``i`` (sorted and duplicate-free when ``unique``); ``offsets``
        is int64 of length n+1.
    """
    if ngram < 1 or char_ngram < 1:
        raise ValueError("ngram and char_ngram must be >= 1")
    series = as_series(texts)
    counts, hashes = [], []
    for _, chunk in iter_chunks(series, _CHUNK_TEXTS):
        c, h = _shingle_chunk(chunk, ngram, char_ngram, seed, unique)
        counts.append(c)
        hashes.append(h)
    offsets = np.zeros(len(series) + 1, np.int64)
    if len(series):
        np.cumsum(np.concatenate(counts), out=offsets[1:])
    return offsets, (np.concatenate(hashes) if hashes else np.zeros(0, np.uint32))


def jaccard(offsets: np.ndarray, hashes: np.ndarray, left: np.ndarray, right: np.ndarray, *, chunk: int = 1 << 13) -> np.ndarray:
    """Exact Jaccard similarity of the shingle sets of each pair (two empty sets -> 1.0).

    Vectorized: for a chunk of pairs, both sets are tagged with the pair number, sorted, and
    equal neighbours counted as the intersection (sets hold no repeats).

    Args:
        offsets: CSR offsets from :func:`shingle_hashes`.
        hashes: Shingle hashes from :func:`shingle_hashes`.
        left: Row indices.
        right: Row indices, same length as ``left``.
        chunk: Pairs per vectorized batch (bounds memory).

    Returns:
        float64 array of similarities.
    """
    offsets = np.asarray(offsets, np.int64)
    left = np.asarray(left, np.int64)
    right = np.asarray(right, np.int64)
    sizes = np.diff(offsets)
    out = np.empty(len(left), np.float64)
    for lo in range(0, len(left), chunk):
        l, r = left[lo : lo + chunk], right[lo : lo + chunk]
        la, lb = sizes[l], sizes[r]
        cnt = la + lb
        pair = np.repeat(np.arange(len(l), dtype=np.uint64), cnt)
        # Gather both sets' elements: positions offsets[row] + k.
        srcrow = np.stack([l, r], axis=1).ravel()
        srccnt = np.stack([la, lb], axis=1).ravel()
        pos = np.repeat(offsets[srcrow] - (np.cumsum(srccnt) - srccnt), srccnt) + np.arange(int(srccnt.sum()))
        key = (pair << _U64(32)) | hashes[pos].astype(np.uint64)
        key.sort()
        dup = key[1:] == key[:-1]
        inter = np.bincount((key[1:][dup] >> _U64(32)).astype(np.int64), minlength=len(l))
        union = cnt - inter
        with np.errstate(invalid="ignore", divide="ignore"):
            out[lo : lo + chunk] = np.where(union > 0, inter / np.maximum(union, 1), 1.0)
    return out

