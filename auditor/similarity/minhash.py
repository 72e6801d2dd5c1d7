"""MinHash signatures, bit-identical to datasketch 2.x (its default `affine32` scheme), computed in
cache-sized blocks of shingles and chunk by chunk, so memory stays flat."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .shingles import _fmix32, as_series, shingle_hashes

_MAX32 = (1 << 32) - 1
# Shingles per signature block. Measured: 16384 (an 8 MiB block at 128 perms) is 1.7x faster than
# 2048 (1 MiB, L2-sized): the per-block bookkeeping (searchsorted, reduceat setup, row merge)
# dominates small blocks, and the element-wise passes stream well from L3 anyway.
_BLOCK_SHINGLES = 16384
# Measured: 2 threads were slower than 1 on the shared 2-core box (memory-bound kernels), so 1 by default.
# One thread per call of a kernel: the chunked pipelines (_chunked) run their chunks in parallel instead.
_KERNEL_THREADS = 1


def default_threads() -> int:
    """Worker threads for the chunked kernels: $AUDITOR_THREADS, else the CPU count (at most 4)."""
    import os

    value = os.environ.get("AUDITOR_THREADS")
    if value and value.isdigit() and int(value) > 0:
        return int(value)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(4, cpus))


def text_signatures(texts, *, num_perm: int = 128, ngram: int = 3, char_ngram: int = 5, seed: int = 1,
                    chunk_size: int = 1 << 14, threads: int | None = None) -> np.ndarray:
    """MinHash signatures of normalized texts, shingled and signed chunk by chunk (flat memory).

    Row ``i`` equals ``minhash_signatures(*shingle_hashes(texts))[i]``, without ever holding
    more than ``chunk_size`` texts' shingles per thread. ``threads`` defaults to
    :func:`default_threads`.
    """
    return chunked(texts, num_perm, np.uint32, lambda sig: sig, num_perm=num_perm, ngram=ngram,
                   char_ngram=char_ngram, seed=seed, chunk_size=chunk_size, threads=threads)


def chunked(texts, width, dtype, finish, *, num_perm, ngram, char_ngram, seed, chunk_size, threads):
    """Shingle -> sign -> finish(signatures) chunk by chunk into an (n, width) array, on worker threads."""
    series = as_series(texts)

    def sign(lo: int) -> np.ndarray:
        off, hs = shingle_hashes(series.slice(lo, chunk_size), ngram=ngram, char_ngram=char_ngram, seed=seed,
                                 unique=False)
        return finish(minhash_signatures(off, hs, num_perm=num_perm, seed=seed))

    return in_chunks(len(series), width, dtype, sign, chunk_size=chunk_size, threads=threads)


def in_chunks(rows: int, width: int, dtype, work, *, chunk_size: int, threads: int | None) -> np.ndarray:
    """An (rows, width) array whose rows lo..lo+chunk_size are `work(lo)`, chunks computed on worker threads."""
    if threads is None:
        threads = default_threads()
    out = np.empty((rows, width), dtype)

    def fill(lo: int) -> None:
        out[lo : lo + chunk_size] = work(lo)

    starts = range(0, rows, chunk_size)
    if threads <= 1 or len(starts) <= 1:
        for lo in starts:
            fill(lo)
    else:
        # polars and numpy release the GIL: chunks run in parallel, each writing its own rows.
        with ThreadPoolExecutor(threads) as pool:
            for future in [pool.submit(fill, lo) for lo in starts]:
                future.result()
    return out


def joined_signatures(first, second, *, num_perm: int = 128, ngram: int = 3, char_ngram: int = 5,
                      seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The signatures of the texts `first` and of each row's `first` and `second` texts joined (as
    `join_normalized` joins normalized parts), the words of `first` split and hashed once for both.

    Equal to ``text_signatures(first)`` and ``text_signatures(join_normalized([first, second]))``. The
    signature of a union of shingle sets is the element-wise minimum of theirs, and the word n-grams of
    the joined text are those of `first`, those of `second` and the few that cross the seam
    (`seam_grams`); a joined text of fewer than `ngram` words has character n-grams of its own.
    """
    from .shingles import _shingle_chunk, _word_grams, _word_hashes, seam_grams

    first, second = as_series(first), as_series(second)

    def sign(counts, hashes):
        offsets = np.zeros(len(counts) + 1, np.int64)
        np.cumsum(counts, out=offsets[1:])
        return minhash_signatures(offsets, hashes, num_perm=num_perm, seed=seed)

    words_first, words_second = _word_hashes(first, seed), _word_hashes(second, seed)
    own = sign(*_shingle_chunk(first, ngram, char_ngram, seed, False, words=words_first))
    # where `first` has fewer than ngram words its own signature is of character n-grams: none joined
    joined = np.where((words_first[0] >= ngram)[:, None], own, np.uint32(_MAX32))
    np.minimum(joined, sign(*_word_grams(*words_second, ngram)), out=joined)
    np.minimum(joined, sign(*seam_grams(words_first, words_second, ngram)), out=joined)
    short = np.flatnonzero((words_first[0] + words_second[0] < ngram)
                           & ((first.str.len_bytes() + second.str.len_bytes()).to_numpy() > 0))
    if len(short):
        from ..context.text import join_normalized

        texts = join_normalized([first.gather(short), second.gather(short)])
        joined[short] = sign(*_shingle_chunk(texts, ngram, char_ngram, seed, False))
    return own, joined


def _permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) permutation parameters datasketch's MinHash draws for (num_perm, seed):
    `np.random.RandomState(seed).randint(0, 2**31, num_perm)` and then `randint(0, 2**32, num_perm)` as
    uint32, read straight from the Mersenne Twister numpy seeds alike (importing numpy.random costs a
    cold run more than drawing 256 words)."""
    if not 0 <= seed < 1 << 32:
        raise ValueError("Seed must be between 0 and 2**32 - 1")  # as RandomState says
    words = _legacy_words(seed, 2 * num_perm)
    # randint below 2**31 masks a word to 31 bits (never rejecting one); below 2**32 takes it whole
    a = (words[:num_perm] & np.uint32(0x7FFFFFFF)) * np.uint32(2) + np.uint32(1)
    return a, words[num_perm:].copy()


def _legacy_words(seed: int, count: int) -> np.ndarray:
    """The first `count` 32-bit outputs of `np.random.RandomState(seed)`: MT19937 seeded by
    init_genrand (numpy's legacy seeding of an integer), drawn by Python's generator set to that state."""
    import random

    state = [seed]
    for i in range(1, 624):
        prev = state[-1]
        state.append((1812433253 * (prev ^ (prev >> 30)) + i) & 0xFFFFFFFF)
    twister = random.Random()
    twister.setstate((3, (*state, 624), None))
    # getrandbits(32 k) is the next k words, the first one least significant
    return np.frombuffer(twister.getrandbits(32 * count).to_bytes(4 * count, "little"), dtype="<u4").astype(np.uint32)


def _signature_rows(offsets, hv, a, b, out, r0, r1) -> None:
    """Fill out[r0:r1] (pre-set to the max value) from the shingles of rows r0..r1-1, block-wise."""
    lo, hi = int(offsets[r0]), int(offsets[r1])
    if hi == lo:
        return
    num_perm = len(a)
    dtype = out.dtype
    # Transposed block (num_perm, shingles): every op runs on contiguous rows and the
    # reduceat runs along the last axis, measured 2x faster than the (shingles, num_perm) layout.
    buf = np.empty((num_perm, _BLOCK_SHINGLES), dtype)
    a_col, b_col = a[:, None], b[:, None]
    row_offsets = offsets[r0 : r1 + 1]
    for s in range(lo, hi, _BLOCK_SHINGLES):
        e = min(s + _BLOCK_SHINGLES, hi)
        m = e - s
        blk = buf[:, :m]
        np.multiply(a_col, hv[None, s:e], out=blk)  # wraps mod 2**32 like datasketch
        np.add(blk, b_col, out=blk)
        # Rows that have shingles in [s, e): first and last row touching the block.
        ra = int(np.searchsorted(row_offsets, s, side="right")) - 1
        rb = int(np.searchsorted(row_offsets, e, side="left"))
        starts = np.maximum(row_offsets[ra:rb], s) - s
        nonempty = np.minimum(row_offsets[ra + 1 : rb + 1], e) - s > starts
        idx = starts[nonempty]
        red = np.minimum.reduceat(blk, idx, axis=1).T
        rows = np.arange(r0 + ra, r0 + rb)[nonempty]
        # A row may span blocks: combine with what earlier blocks found.
        out[rows] = np.minimum(out[rows], red)


def minhash_signatures(
    offsets: np.ndarray, hashes: np.ndarray, *, num_perm: int = 128, seed: int = 1,
    threads: int = _KERNEL_THREADS,
) -> np.ndarray:
    """MinHash signatures, bit-identical to datasketch.

    Row ``i`` equals ``datasketch.MinHash(num_perm, seed, hashfunc=lambda x: x)`` (its default
    ``affine32`` scheme) updated with ``hashes[offsets[i]:offsets[i+1]]``. Rows without shingles
    keep the all-max signature 2**32-1. Work is done in cache-sized blocks
    of shingles (memory O(block x num_perm)) split over ``threads`` threads.

    Args:
        offsets: CSR offsets (n+1,) from :func:`shingle_hashes`.
        hashes: uint32 shingle hashes (values must be < 2**32).
        num_perm: Number of permutations.
        seed: datasketch seed.
        threads: Worker threads (numpy releases the GIL in the block kernels).

    Returns:
        uint32 array (n, num_perm), as datasketch's.
    """
    offsets = np.asarray(offsets, dtype=np.int64)
    n = len(offsets) - 1
    a, b = _permutations(num_perm, seed)
    hv = _fmix32(np.asarray(hashes))  # datasketch pre-mixes each input hash once
    out = np.full((n, num_perm), _MAX32, dtype=np.uint32)
    if n == 0:
        return out
    threads = max(1, int(threads))
    if threads == 1 or offsets[-1] < 8 * _BLOCK_SHINGLES:
        _signature_rows(offsets, hv, a, b, out, 0, n)
        return out
    # Split rows into equal-shingle parts; parts own disjoint row ranges of `out`.
    cuts = np.searchsorted(offsets, np.linspace(0, offsets[-1], threads + 1)[1:-1])
    bounds = [0, *sorted(set(int(c) for c in cuts)), n]
    with ThreadPoolExecutor(threads) as pool:
        futs = [pool.submit(_signature_rows, offsets, hv, a, b, out, r0, r1)
                for r0, r1 in zip(bounds[:-1], bounds[1:]) if r1 > r0]
        for f in futs:
            f.result()
    return out


def estimated_jaccard(signatures: np.ndarray, left: np.ndarray, right: np.ndarray, *, chunk: int = 1 << 15) -> np.ndarray:
    """MinHash estimate of Jaccard: fraction of equal signature positions per pair.

    Args:
        signatures: (n, num_perm) from :func:`minhash_signatures`.
        left: Row indices.
        right: Row indices.
        chunk: Pairs per batch (bounds memory).

    Returns:
        float64 array.
    """
    out = np.empty(len(left), np.float64)
    for lo in range(0, len(left), chunk):
        eq = signatures[left[lo : lo + chunk]] == signatures[right[lo : lo + chunk]]
        out[lo : lo + chunk] = eq.mean(axis=1) if eq.shape[1] else 0.0
    return out

