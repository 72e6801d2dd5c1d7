"""The similarity kernels (shingles, MinHash, LSH, components): datasketch exactness, LSH parameters,
quality, pairs, clusters."""

from __future__ import annotations

import time

import numpy as np
import pytest
from datasketch import MinHash, MinHashLSH

from auditor.similarity import lsh, minhash, shingles
from auditor.similarity.graph import components


def _near_duplicate_pairs(texts, threshold=0.8, num_perm=128, verify="jaccard"):
    """Texts -> shingles -> MinHash -> LSH candidates -> verified pairs: the kernels as the checks chain them."""
    bands, rows = lsh.lsh_params(lsh.recall_threshold(threshold), num_perm)
    offsets, hashes = shingles.shingle_hashes(texts, unique=False)
    sigs = minhash.minhash_signatures(offsets, hashes, num_perm=num_perm)
    left, right = lsh.candidate_pairs(lsh.band_keys(sigs, bands, rows))
    if verify == "estimate":
        similarity = minhash.estimated_jaccard(sigs, left, right)
    else:
        offsets, hashes = shingles.shingle_hashes(texts)
        similarity = shingles.jaccard(offsets, hashes, left, right)
    keep = similarity >= threshold
    return left[keep], right[keep], similarity[keep]


def _vocab(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    return ["".join(rng.choice(letters, rng.integers(2, 9))) + str(i) for i in range(n)]


def _datasketch_sig(values, num_perm, seed):
    m = MinHash(num_perm=num_perm, seed=seed, hashfunc=lambda x: x)
    for v in values:
        m.update(int(v))
    return m.hashvalues


MIXED_TEXTS = [
    "", None, "a", "hello", "hi there", "one two three", "a, b; c! d",
    "naïve café — ünïcödé 日本語のテキスト", "x" * 4, "😀 emoji text here yes",
    "the quick brown fox jumps over the lazy dog " * 5, "  ", "_under_score words",
]


@pytest.mark.parametrize("num_perm,seed", [(128, 1), (64, 7)])
def test_signatures_equal_datasketch(num_perm, seed):
    rng = np.random.default_rng(seed)
    vocab = _vocab(200)
    texts = list(MIXED_TEXTS) + [" ".join(rng.choice(vocab, rng.integers(0, 40))) for _ in range(40)]
    off, hs = shingles.shingle_hashes(texts, seed=seed)
    sig = minhash.minhash_signatures(off, hs, num_perm=num_perm, seed=seed)
    assert sig.shape == (len(texts), num_perm)
    for i in range(len(texts)):
        expect = _datasketch_sig(hs[off[i] : off[i + 1]], num_perm, seed)
        assert sig.dtype == expect.dtype
        np.testing.assert_array_equal(sig[i], expect, err_msg=f"row {i} {texts[i]!r}")


def test_signatures_block_boundaries_and_threads():
    # Rows longer than a block, and many tiny rows, with 1 and 2 threads.
    rng = np.random.default_rng(3)
    sizes = np.concatenate([[5000, 0, 1, 3000], rng.integers(0, 30, 500)])
    off = np.concatenate([[0], np.cumsum(sizes)])
    hs = rng.integers(0, 2**32, off[-1], dtype=np.uint64).astype(np.uint32)
    s1 = minhash.minhash_signatures(off, hs, threads=1)
    s2 = minhash.minhash_signatures(off, hs, threads=2)
    np.testing.assert_array_equal(s1, s2)
    for i in [0, 1, 2, 3, 10, 503]:
        np.testing.assert_array_equal(s1[i], _datasketch_sig(hs[off[i] : off[i + 1]], 128, 1))


def test_shingles_shapes_and_fallback():
    off, hs = shingles.shingle_hashes(["", None, "abc", "hello", "hi there", "one two three", "one two three four"])
    counts = np.diff(off).tolist()
    assert counts == [0, 0, 1, 1, 4, 1, 2]
    assert hs.dtype == np.uint32
    # Same text -> same set; order of words matters for n-grams.
    o2, h2 = shingles.shingle_hashes(["one two three four", "four three two one", "one two three four"])
    assert set(h2[o2[0] : o2[1]]) == set(h2[o2[2] : o2[3]])
    assert not set(h2[o2[0] : o2[1]]) & set(h2[o2[1] : o2[2]])
    # Punctuation is not part of words.
    o3, h3 = shingles.shingle_hashes(["one, two! three", "one two three"])
    assert set(h3[o3[0] : o3[1]]) == set(h3[o3[1] : o3[2]])
    # polars Series with nulls behaves like a list.
    pl = pytest.importorskip("polars")
    o4, h4 = shingles.shingle_hashes(pl.Series(["one two three", None, "abc"]))
    o5, h5 = shingles.shingle_hashes(["one two three", "", "abc"])
    np.testing.assert_array_equal(o4, o5)
    np.testing.assert_array_equal(h4, h5)


@pytest.mark.parametrize("num_perm", [64, 128, 256])
def test_lsh_params_equal_datasketch(num_perm):
    for t in [0.05, 0.2, 0.35, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]:
        index = MinHashLSH(threshold=t, num_perm=num_perm)
        assert lsh.lsh_params(t, num_perm) == (index.b, index.r), t


def _planted(n=1000, seed=5):
    rng = np.random.default_rng(seed)
    vocab = _vocab(3000, seed)
    docs = [list(rng.choice(vocab, rng.integers(40, 81))) for _ in range(n)]
    for d in rng.choice(n, 150, replace=False):
        src = list(docs[int(rng.integers(0, n))])
        for _ in range(int(rng.integers(1, 4))):
            k = int(rng.integers(0, len(src)))
            if rng.random() < 0.5:
                src[k] = str(rng.choice(vocab))
            else:
                src.insert(k, str(rng.choice(vocab)))
        docs[d] = src
    return [" ".join(d) for d in docs]


def test_quality_vs_bruteforce():
    texts = _planted()
    off, hs = shingles.shingle_hashes(texts)
    n = len(texts)
    ii, jj = np.triu_indices(n, 1)
    true = shingles.jaccard(off, hs, ii, jj)
    truth = set(zip(ii[true >= 0.8].tolist(), jj[true >= 0.8].tolist()))
    assert len(truth) >= 50
    # Exact verification must meet 0.95/0.95; the MinHash estimate (std ~0.035 at J=0.8 with
    # 128 perms) is noisier for pairs near the threshold, so it gets a looser bound.
    for verify, bound in [("jaccard", 0.95), ("estimate", 0.85)]:
        l, r, s = _near_duplicate_pairs(texts, threshold=0.8, verify=verify)
        found = set(zip(l.tolist(), r.tolist()))
        recall = len(found & truth) / len(truth)
        precision = len(found & truth) / max(len(found), 1)
        assert recall >= bound, (verify, recall)
        assert precision >= bound, (verify, precision)
        assert np.all(l < r)


def test_jaccard_exact_small():
    off, hs = shingles.shingle_hashes(["a b c d", "a b c e", "", ""])
    # {abc, bcd} vs {abc, bce} -> 1/3; empty vs empty -> 1.0
    np.testing.assert_allclose(shingles.jaccard(off, hs, [0, 2, 0], [1, 3, 0]), [1 / 3, 1.0, 1.0])
    sig = minhash.minhash_signatures(off, hs)
    assert minhash.estimated_jaccard(sig, np.array([0]), np.array([0]))[0] == 1.0


def test_cross_pairs():
    a = _planted(300, seed=1)
    rng = np.random.default_rng(2)
    vocab = _vocab(3000, 9)
    b = [" ".join(rng.choice(vocab, 60)) for _ in range(200)]
    planted = {(5, 7), (100, 50), (299, 199)}
    for i, j in planted:
        b[j] = a[i] + " extra"
    bands, rows = lsh.lsh_params(0.8, 128)
    ka = lsh.band_keys(minhash.minhash_signatures(*shingles.shingle_hashes(a)), bands, rows)
    kb = lsh.band_keys(minhash.minhash_signatures(*shingles.shingle_hashes(b)), bands, rows)
    ia, ib = lsh.cross_candidate_pairs(ka, kb)
    assert planted <= set(zip(ia.tolist(), ib.tolist()))
    disjoint = [" ".join(rng.choice(_vocab(3000, 11), 60)) for _ in range(200)]
    kd = lsh.band_keys(minhash.minhash_signatures(*shingles.shingle_hashes(disjoint)), bands, rows)
    assert len(lsh.cross_candidate_pairs(ka, kd)[0]) == 0


def test_cross_pairs_are_exactly_the_pairs_sharing_a_band_key():
    rng = np.random.default_rng(4)
    band = np.arange(6, dtype=np.uint64) << np.uint64(40)  # keys of different bands never meet
    ka = rng.integers(0, 40, (120, 6)).astype(np.uint64) | band
    kb = rng.integers(0, 40, (300, 6)).astype(np.uint64) | band
    kb[:, 5] = np.uint64(10**6) + band[5]  # a band no `a` row shares
    expected = sorted((i, j) for i in range(len(ka)) for j in range(len(kb)) if (ka[i] == kb[j]).any())
    ia, ib = lsh.cross_candidate_pairs(ka, kb, max_bucket=1000)
    assert list(zip(ia.tolist(), ib.tolist())) == expected


def test_clusters_transitive_and_deterministic():
    labels = components(8, np.array([5, 1, 3, 6]), np.array([6, 3, 5, 7]))
    assert labels.tolist() == [0, 1, 2, 1, 4, 1, 1, 1]
    rng = np.random.default_rng(0)
    l, r = rng.integers(0, 5000, 3000), rng.integers(0, 5000, 3000)
    lab = components(5000, l, r)
    np.testing.assert_array_equal(lab, components(5000, r[::-1], l[::-1]))
    assert np.all(lab[l] == lab[r])
    assert np.all(lab <= np.arange(5000))
    assert np.all(lab[lab] == lab)


def test_huge_bucket_guard():
    texts = ["the same boilerplate answer text"] * 10_000 + ["something else entirely different here"]
    t0 = time.perf_counter()
    l, r, s = _near_duplicate_pairs(texts, threshold=0.8)
    assert time.perf_counter() - t0 < 10
    assert len(l) < 50_000  # not the 50M all-pairs
    lab = components(len(texts), l, r)
    assert np.all(lab[:10_000] == 0)
    assert lab[10_000] == 10_000
    np.testing.assert_allclose(s, 1.0)


def test_determinism():
    texts = _planted(300, seed=4)
    r1 = _near_duplicate_pairs(texts)
    r2 = _near_duplicate_pairs(list(texts))
    for x, y in zip(r1, r2):
        np.testing.assert_array_equal(x, y)
    o1, h1 = shingles.shingle_hashes(texts, seed=2)
    o2, h2 = shingles.shingle_hashes(texts, seed=2)
    np.testing.assert_array_equal(h1, h2)
    assert not np.array_equal(h1, shingles.shingle_hashes(texts, seed=3)[1])


@pytest.mark.parametrize("module", [shingles, minhash, lsh])
def test_no_datasketch_import_in_module(module):
    import ast
    import inspect

    src = inspect.getsource(module)
    names = {a.name for node in ast.walk(ast.parse(src)) if isinstance(node, (ast.Import, ast.ImportFrom))
             for a in node.names} | {getattr(node, "module", None) for node in ast.walk(ast.parse(src))
                                     if isinstance(node, ast.ImportFrom)}
    assert not any(n and (n.startswith("datasketch") or n.startswith("scipy")) for n in names)


@pytest.mark.parametrize("threads", [1, 2])
def test_chunked_text_signatures_and_band_keys_equal_the_whole(threads):
    rng = np.random.default_rng(8)
    vocab = _vocab(500)
    texts = [" ".join(rng.choice(vocab, rng.integers(0, 30))) for _ in range(1000)] + list(MIXED_TEXTS)
    whole = minhash.minhash_signatures(*shingles.shingle_hashes(texts))
    np.testing.assert_array_equal(minhash.text_signatures(texts, chunk_size=97, threads=threads), whole)
    keys = lsh.text_band_keys(texts, 16, 8, chunk_size=97, threads=threads)
    np.testing.assert_array_equal(keys, lsh.band_keys(whole, 16, 8))


def test_unique_false_keeps_the_same_sets():
    texts = ["a b c a b c a b c", "x y", "", "one two three four"]
    o1, h1 = shingles.shingle_hashes(texts)
    o2, h2 = shingles.shingle_hashes(texts, unique=False)
    assert np.diff(o2).tolist() == [7, 1, 0, 2]
    for i in range(len(texts)):
        assert set(h1[o1[i] : o1[i + 1]]) == set(h2[o2[i] : o2[i + 1]])


@pytest.mark.parametrize("seed", [0, 1, 7, 42, 2**31, 2**32 - 1])
def test_permutations_are_the_ones_datasketch_draws_with_numpy(seed):
    for num_perm in (1, 64, 128, 256):
        a, b = minhash._permutations(num_perm, seed)
        drawn = MinHash(num_perm=num_perm, seed=seed).permutations  # datasketch: RandomState(seed).randint
        np.testing.assert_array_equal(a, drawn[0].astype(np.uint32))
        np.testing.assert_array_equal(b, drawn[1].astype(np.uint32))
        assert a.dtype == b.dtype == np.uint32 and (a % 2 == 1).all()
    with pytest.raises(ValueError):
        minhash._permutations(4, -1)


@pytest.mark.parametrize(("ngram", "threads"), [(3, 1), (3, 2), (1, 1), (5, 2)])
def test_signatures_of_a_text_and_its_join_are_those_of_each_text_signed_alone(ngram, threads):
    # the joined text's signature is the minimum of the first text's word n-grams', the second's and the
    # seam's: every mix of long, short (character n-grams), word-less and empty sides on each side
    import polars as pl

    from auditor.context.text import join_normalized, normalize_series

    rng = np.random.default_rng(ngram)
    pieces = _vocab(300) + ["!!", "?", "—", "東京", "x_y", "42", "", "  "]
    def text():
        return " ".join(rng.choice(pieces, rng.choice([0, 1, 1, 2, 2, 3, 4, 6, 12, 40])))
    sides = [normalize_series(pl.Series([text() for _ in range(1500)] + list(MIXED_TEXTS))).fill_null("")
             for _ in range(2)]
    joined = join_normalized(sides)
    own, together = minhash.joined_signatures(*sides, ngram=ngram)
    np.testing.assert_array_equal(own, minhash.text_signatures(sides[0], ngram=ngram, threads=1))
    np.testing.assert_array_equal(together, minhash.text_signatures(joined, ngram=ngram, threads=1))
    bandings, joined_bandings = [(11, 11), (20, 5)], [(16, 8)]
    keys = lsh.joined_bandings_keys(*sides, bandings, joined_bandings, ngram=ngram, chunk_size=97, threads=threads)
    np.testing.assert_array_equal(keys, np.hstack([lsh.text_bandings_keys(sides[0], bandings, ngram=ngram),
                                                   lsh.text_bandings_keys(joined, joined_bandings, ngram=ngram)]))
