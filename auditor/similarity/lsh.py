"""Locality-sensitive hashing: band keys of MinHash signatures and the candidate pairs that share a
band, within one set or across two, with a guard against huge buckets."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .minhash import chunked, in_chunks, joined_signatures
from .shingles import _MASK32, _NGRAM_MULTS, _U64, _fmix64, _seed_mix


def recall_threshold(threshold: float) -> float:
    """The threshold LSH bands are tuned for: below the verification threshold, for recall.

    datasketch's (bands, rows) for 0.8 finds a pair of Jaccard exactly 0.8 only ~40% of the time;
    every candidate is verified afterwards, so tuning lower buys recall at no cost in precision.
    """
    return max(threshold - 0.15, 0.05)


def text_band_keys(texts, bands: int, rows: int, *, num_perm: int = 128, ngram: int = 3, char_ngram: int = 5,
                   seed: int = 1, chunk_size: int = 1 << 14,
                   threads: int | None = None) -> np.ndarray:
    """LSH band keys of normalized texts: ``band_keys(text_signatures(texts), bands, rows)``, but the
    signatures exist one chunk at a time only (128 bytes per row kept for 16 bands instead of 512)."""
    return text_bandings_keys(texts, [(bands, rows)], num_perm=num_perm, ngram=ngram, char_ngram=char_ngram,
                              seed=seed, chunk_size=chunk_size, threads=threads)


def text_bandings_keys(texts, bandings: list[tuple[int, int]], *, num_perm: int = 128, ngram: int = 3,
                       char_ngram: int = 5, seed: int = 1, chunk_size: int = 1 << 14,
                       threads: int | None = None) -> np.ndarray:
    """The band keys of several bandings, (bands, rows) each, cut from one MinHash pass over the texts
    and set side by side: the first ``bandings[0][0]`` columns are ``text_band_keys(texts,
    *bandings[0])``, the next ones those of ``bandings[1]``, and so on."""
    def cut(signatures):
        keys = [band_keys(signatures, bands, rows, seed=seed) for bands, rows in bandings]
        return keys[0] if len(keys) == 1 else np.hstack(keys)

    return chunked(texts, sum(bands for bands, _ in bandings), np.uint64, cut, num_perm=num_perm, ngram=ngram,
                   char_ngram=char_ngram, seed=seed, chunk_size=chunk_size, threads=threads)


def joined_bandings_keys(first, second, bandings: list[tuple[int, int]], joined_bandings: list[tuple[int, int]], *,
                         num_perm: int = 128, ngram: int = 3, char_ngram: int = 5, seed: int = 1,
                         chunk_size: int = 1 << 14, threads: int | None = None) -> np.ndarray:
    """``text_bandings_keys(first, bandings)`` beside ``text_bandings_keys(joined, joined_bandings)``, where
    `joined` is each row's `first` and `second` texts joined, from one pass that signs the words of
    `first` once for both (`joined_signatures`)."""
    from .shingles import as_series

    first, second = as_series(first), as_series(second)

    def keys(lo: int) -> np.ndarray:
        own, joined = joined_signatures(first.slice(lo, chunk_size), second.slice(lo, chunk_size),
                                        num_perm=num_perm, ngram=ngram, char_ngram=char_ngram, seed=seed)
        return np.hstack([band_keys(own, bands, rows, seed=seed) for bands, rows in bandings]
                         + [band_keys(joined, bands, rows, seed=seed) for bands, rows in joined_bandings])

    width = sum(bands for bands, _ in bandings) + sum(bands for bands, _ in joined_bandings)
    return in_chunks(len(first), width, np.uint64, keys, chunk_size=chunk_size, threads=threads)


@lru_cache(maxsize=64)
def lsh_params(threshold: float, num_perm: int, weights: tuple[float, float] = (0.5, 0.5)) -> tuple[int, int]:
    """Bands and rows per band that ``datasketch.MinHashLSH(threshold, num_perm, weights)`` picks.

    Minimizes ``w_fp * FP + w_fn * FN`` over all b * r <= num_perm where FP/FN are the
    integrals of the S-curve below/above the threshold. ``1 - (1 - s**r)**b`` is a polynomial of
    degree ``b * r <= num_perm``, which Gauss-Legendre quadrature with ``num_perm // 2 + 1`` nodes
    integrates exactly: every (b, r) is evaluated at once in numpy instead of scipy's ``quad``
    (a hook run asks for several thresholds and starts cold every time).

    Args:
        threshold: Jaccard threshold in (0, 1).
        num_perm: Signature length.
        weights: (false positive weight, false negative weight).

    Returns:
        ``(bands, rows)``.
    """
    wfp, wfn = weights
    nodes, gw = np.polynomial.legendre.leggauss(num_perm // 2 + 1)

    def grid(lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
        half, mid = (hi - lo) / 2, (hi + lo) / 2
        return mid + half * nodes, half * gw

    s_fp, w_fp = grid(0.0, threshold)
    s_fn, w_fn = grid(threshold, 1.0)
    b = np.concatenate([np.full(num_perm // band, band) for band in range(1, num_perm + 1)])
    r = np.concatenate([np.arange(1, num_perm // band + 1) for band in range(1, num_perm + 1)])
    fp = (1 - (1 - s_fp ** r[:, None]) ** b[:, None]) @ w_fp
    fn = ((1 - s_fn ** r[:, None]) ** b[:, None]) @ w_fn
    err = fp * wfp + fn * wfn
    best = int(np.argmin(err))  # the first minimum in (b, r) order, like datasketch's strict "<"
    return int(b[best]), int(r[best])


def band_keys(signatures: np.ndarray, bands: int, rows: int, *, seed: int = 1) -> np.ndarray:
    """One 64-bit key per band: a seeded hash of the band's ``rows`` signature values.

    The band index is mixed in, so equal values in different bands never share a key and
    all bands can be bucketed together.

    Args:
        signatures: (n, num_perm) MinHash signatures.
        bands: Number of bands (b * r <= num_perm; trailing columns are ignored).
        rows: Signature values per band.
        seed: Hash seed.

    Returns:
        uint64 array (n, bands).
    """
    n, num_perm = signatures.shape
    if bands * rows > num_perm:
        raise ValueError("bands * rows must be <= num_perm")
    keys = np.empty((n, bands), np.uint64)
    mult = _NGRAM_MULTS[0]
    band_seeds = np.array([_seed_mix(seed, 1000 + j) for j in range(bands)], np.uint64)
    # Row chunks, transposed to (band, row, value) so each step is a contiguous vector op.
    for lo in range(0, n, 8192):
        blk = signatures[lo : lo + 8192, : bands * rows].astype(np.uint64)
        cols = blk.reshape(len(blk), bands, rows).transpose(2, 1, 0).copy()
        h = np.repeat(band_seeds[:, None], len(blk), axis=1)
        for c in range(rows):
            h *= mult
            h += cols[c]
        keys[lo : lo + len(blk)] = _fmix64(h).T
    return keys


def _within_bucket_pairs(members: np.ndarray, starts: np.ndarray, sizes: np.ndarray, max_bucket: int):
    """Pairs (i < j) inside each bucket: all pairs up to max_bucket members, star+chain above."""
    small = sizes <= max_bucket
    st, sz = starts[small], sizes[small]
    left_parts, right_parts = [], []
    if len(sz):
        # For element k of a bucket of size s: pairs with the s-1-k following elements.
        elem_start = np.repeat(st, sz)
        within = np.arange(int(sz.sum())) - np.repeat(np.cumsum(sz) - sz, sz)
        cnt = np.repeat(sz, sz) - 1 - within
        pos = elem_start + within
        lp = np.repeat(pos, cnt)
        run = np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        left_parts.append(members[lp])
        right_parts.append(members[lp + 1 + run])
    big = ~small
    if big.any():
        # Huge bucket: rows sharing a whole band are near-identical with overwhelming
        # probability (e.g. thousands of empty or boilerplate texts). All O(s^2) pairs
        # would blow up time and memory, so link each member to the bucket's first member
        # (star) and to its predecessor (chain): s-1 + s-1 pairs that keep the component
        # connected, and verification on them still rejects members that do not match.
        for s0, size in zip(starts[big], sizes[big]):
            mem = members[s0 : s0 + size]
            left_parts += [np.full(size - 1, mem[0]), mem[:-1]]
            right_parts += [mem[1:], mem[1:]]
    if not left_parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(left_parts), np.concatenate(right_parts)


def _unique_pairs(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort (left, right) lexicographically and drop repeats (pairs found in several bands)."""
    if len(left) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    packed = np.unique((left.astype(np.uint64) << _U64(32)) | right.astype(np.uint64))
    return (packed >> _U64(32)).astype(np.int64), (packed & _MASK32).astype(np.int64)


def _entry_buckets(flat: np.ndarray, rows: np.ndarray):
    """Group entries (key, row), given in ascending row order: (row of each sorted entry, bucket starts,
    sizes, sorted keys)."""
    order = np.argsort(flat, kind="stable")  # stable: rows stay ascending inside a bucket
    sk = flat[order]
    brk = np.flatnonzero(sk[1:] != sk[:-1]) + 1
    starts = np.concatenate(([0], brk)).astype(np.int64)
    sizes = np.diff(np.concatenate((starts, [len(sk)])))
    return rows[order], starts, sizes, sk


def _shared_buckets(keys: np.ndarray):
    """Buckets of two or more entries only: (row of each entry, bucket starts, sizes).

    Band keys mix in the band index, so keys of different bands never meet: each band is
    sorted on its own (n keys), and only its repeated keys are kept (rows ascending per bucket). Memory stays O(n) per
    band instead of O(n x bands) for one global sort or hash table.
    """
    n, nb = keys.shape
    members, starts, sizes, base = [], [], [], 0
    for band in range(nb):
        col = np.ascontiguousarray(keys[:, band])
        order = np.argsort(col)  # unstable (SIMD) sort: 4x faster; rows are re-sorted below
        sk = col[order]
        same = sk[1:] == sk[:-1]
        if not same.any():
            continue
        # Runs of equal keys: a run starts where a key differs from its predecessor.
        brk = np.flatnonzero(np.r_[True, ~same])
        size = np.diff(np.r_[brk, n])
        multi = size >= 2
        st, sz = brk[multi], size[multi]
        pos = np.repeat(st - (np.cumsum(sz) - sz), sz) + np.arange(int(sz.sum()))
        rows = order[pos]
        bucket = np.repeat(np.arange(len(sz)), sz)
        members.append(rows[np.lexsort((rows, bucket))])  # rows ascending inside each bucket
        starts.append(np.cumsum(sz) - sz + base)
        sizes.append(sz)
        base += int(sz.sum())
    if not members:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    return (np.concatenate(members).astype(np.int64), np.concatenate(starts).astype(np.int64),
            np.concatenate(sizes).astype(np.int64))


def candidate_pairs(keys: np.ndarray, *, ids: np.ndarray | None = None, max_bucket: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """All row pairs sharing at least one band key.

    Buckets with more than ``max_bucket`` members do not emit all pairs but a star (first
    member to every other) plus a chain (consecutive members): linear in the bucket size,
    the bucket stays one connected component for :func:`clusters`, and the pairs still go
    through verification.

    Args:
        keys: (n, bands) uint64 from :func:`band_keys`.
        ids: Optional (n,) int array mapping rows to caller ids (e.g. global row numbers).
        max_bucket: Largest bucket that gets all of its pairs.

    Returns:
        ``(left, right)`` int64 arrays, left < right, unique, sorted by (left, right).
    """
    if keys.shape[0] == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    members, starts, sizes = _shared_buckets(keys)
    left, right = _within_bucket_pairs(members, starts, sizes, max_bucket)
    # The same row can sit twice in a bucket only if two of its bands collide; drop self pairs.
    ok = left != right
    left, right = np.minimum(left[ok], right[ok]), np.maximum(left[ok], right[ok])
    left, right = _unique_pairs(left, right)
    if ids is not None:
        ids = np.asarray(ids)
        left, right = ids[left], ids[right]
        swap = left > right
        left, right = np.where(swap, right, left), np.where(swap, left, right)
        left, right = _unique_pairs(left, right)
    return left, right


def entry_pairs(bands: np.ndarray, flat: np.ndarray, rows: np.ndarray, *,
                max_bucket: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """`candidate_pairs` from band key entries (band, key, row), in any order: every (band, key) must be
    given with all its entries (a shuffle partition holds whole keys), and the pairs of several
    partitions joined by `_unique_pairs` are those of `candidate_pairs` on all the keys."""
    if not len(flat):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    order = np.lexsort((rows, flat, bands))  # by band, key, then row: members ascending as _shared_buckets has them
    bands, flat, members = bands[order], flat[order], rows[order].astype(np.int64)
    same = (flat[1:] == flat[:-1]) & (bands[1:] == bands[:-1])
    brk = np.flatnonzero(np.r_[True, ~same])
    size = np.diff(np.r_[brk, len(flat)])
    multi = size >= 2
    left, right = _within_bucket_pairs(members, brk[multi].astype(np.int64), size[multi].astype(np.int64),
                                       max_bucket)
    ok = left != right
    return _unique_pairs(np.minimum(left[ok], right[ok]), np.maximum(left[ok], right[ok]))


def cross_candidate_pairs(keys_a: np.ndarray, keys_b: np.ndarray, *, max_bucket: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i in a, j in b) sharing at least one band key (train/eval leakage candidates).

    A bucket whose product of sizes exceeds ``max_bucket**2`` is linked as a double star
    (every b-member to the first a-member and every a-member to the first b-member), so
    each affected row still gets a candidate without a quadratic blow-up.

    Args:
        keys_a: (n_a, bands) band keys of set a.
        keys_b: (n_b, bands) band keys of set b (same bands/rows/seed).
        max_bucket: See above.

    Returns:
        ``(ia, ib)`` int64 arrays, unique, sorted by (ia, ib).
    """
    if keys_a.shape[0] == 0 or keys_b.shape[0] == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    import polars as pl

    # Only keys found on both sides can pair: a hash lookup drops the rest before anything is sorted
    # (an eval file against 100,000 train rows: 3 M train keys, a few thousand shared).
    keep_b = pl.Series(keys_b.ravel()).is_in(pl.Series(keys_a.ravel()).implode()).to_numpy()
    if not keep_b.any():
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    keep_a = pl.Series(keys_a.ravel()).is_in(pl.Series(keys_b.ravel()[keep_b]).implode()).to_numpy()
    rows_a = np.arange(keys_a.size, dtype=np.int64) // keys_a.shape[1]
    rows_b = np.arange(keys_b.size, dtype=np.int64) // keys_b.shape[1]
    return cross_entry_pairs(keys_a.ravel()[keep_a], rows_a[keep_a], keys_b.ravel()[keep_b], rows_b[keep_b],
                             max_bucket=max_bucket)


def cross_entry_pairs(flat_a: np.ndarray, rows_a: np.ndarray, flat_b: np.ndarray, rows_b: np.ndarray, *,
                      max_bucket: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """`cross_candidate_pairs` from band key entries (key, row) of each side, rows ascending per side:
    every key of a side must be given with all its entries (a shuffle partition holds whole keys)."""
    if not len(flat_a) or not len(flat_b):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    ma, sa, za, ka = _entry_buckets(flat_a, rows_a)
    mb, sb, zb, kb = _entry_buckets(flat_b, rows_b)
    _, ia, ib = np.intersect1d(ka[sa], kb[sb], assume_unique=True, return_indices=True)
    sa, za, sb, zb = sa[ia], za[ia], sb[ib], zb[ib]
    prod = za * zb
    small = prod <= max_bucket * max_bucket
    lp, rp = [], []
    if small.any():
        s_a, z_a, s_b, z_b, p = sa[small], za[small], sb[small], zb[small], prod[small]
        g = np.repeat(np.arange(len(p)), p)
        t = np.arange(int(p.sum())) - np.repeat(np.cumsum(p) - p, p)
        lp.append(ma[s_a[g] + t // z_b[g]])
        rp.append(mb[s_b[g] + t % z_b[g]])
    for s_a, z_a, s_b, z_b in zip(sa[~small], za[~small], sb[~small], zb[~small]):
        lp += [np.full(z_b, ma[s_a]), ma[s_a : s_a + z_a]]
        rp += [mb[s_b : s_b + z_b], np.full(z_a, mb[s_b])]
    if not lp:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return _unique_pairs(np.concatenate(lp), np.concatenate(rp))

