"""Pairs of similar rows, for checks (this module is part of the public API; the kernels live in
`shingles`, `minhash` and `lsh` beside it and are imported when used, since they need numpy): MinHash signatures and LSH band keys of a text selection (per-file
artefacts of the audit context), near pairs, exact copies, and the clusters pairs make.

Signatures are computed once per audit (and per file, so the incremental cache keeps them between
runs); near-duplicates, contradictions and leakage all ask for pairs through `near_pairs`.
"""

from __future__ import annotations

from typing import Any

from ..context.text import matching_text, user_side

__all__ = ["clusters", "exact_groups", "fmix64", "member_texts", "near_pairs", "pair_jaccard", "same_prompt",
           "signatures", "band_keys", "banding"]

ALGORITHM_VERSION = 1
CHAR_NGRAM = 5


def signatures(ctx: Any, text: str, *, num_perm: int = 128, ngram: int = 3, rows=None):
    """MinHash signatures (datasketch-compatible, seeded by ctx.settings.seed) of `ctx.text(text)`.

    Returns an array of shape (frame rows, num_perm), row i = frame row i; with `rows` (row ids), only
    theirs, in that order (computed for them alone, not kept).
    """
    from .minhash import text_signatures
    from .shingles import hash_version

    seed = ctx.settings.seed

    def compute(texts):
        return text_signatures(texts, num_perm=num_perm, ngram=ngram, char_ngram=CHAR_NGRAM, seed=seed)

    if rows is not None:
        return compute(ctx.text_rows(text, rows))
    return ctx.per_file(("minhash", text, num_perm, ngram, CHAR_NGRAM, seed, ALGORITHM_VERSION, hash_version()),
                        lambda frame: _once_per_text(ctx.text_of(text, frame), compute))


def _once_per_text(texts, compute):
    """`compute(texts)` (an array with one row per text), computed once per distinct text: repeated
    texts (copies, empty fields) are shingled and hashed once. With a list of row-aligned Series,
    `compute(*texts)`, once per distinct row of them."""
    import numpy as np
    import polars as pl

    columns = texts if isinstance(texts, list) else [texts]
    rows = len(columns[0])
    combined = columns[0].hash(7).to_numpy()
    for column in columns[1:]:  # a row of unique combined hash is a unique row
        combined = fmix64(combined * np.uint64(0x94D049BB133111EB) ^ column.hash(7).to_numpy())
    if len(np.unique(combined)) == rows:
        return compute(*columns)  # no row twice (a 64-bit hash tells; most files): nothing to share
    frame = pl.DataFrame({f"t{i}": column for i, column in enumerate(columns)}).with_row_index("i")
    first = frame.select(pl.col("i").min().over(frame.columns[1:]))["i"].to_numpy().astype(np.int64)
    distinct = np.flatnonzero(first == np.arange(len(first)))
    if len(distinct) == len(first):
        return compute(*columns)
    return compute(*(column.gather(distinct) for column in columns))[np.searchsorted(distinct, first)]


def banding(text: str, threshold: float, *, num_perm: int = 128, ngram: int = 3) -> str:
    """The declaration (for `Check.artefacts`, beside "lsh-band-keys:<text>") of the band keys a check
    will ask `near_pairs` for: the checks that declare their bandings of one text get all of them from
    one MinHash pass over it, rather than one pass each."""
    return f"lsh-band-keys:{text}@{threshold!r}/{num_perm}/{ngram}"


def _planned_bandings(ctx: Any, text: str, num_perm: int, ngram: int) -> list[float]:
    """The thresholds that checks still to run declared (see `banding`) for this text and shingling."""
    prefix, suffix = f"lsh-band-keys:{text}@", f"/{num_perm}/{ngram}"
    found = []
    for declared in ctx.planned:
        if declared.startswith(prefix) and declared.endswith(suffix):
            try:
                found.append(float(declared[len(prefix):-len(suffix)]))
            except ValueError:
                continue
    return found


def band_keys(ctx: Any, text: str, *, threshold: float, num_perm: int = 128, ngram: int = 3, rows=None):
    """LSH band keys (frame rows, bands) for pairs of at least `threshold` Jaccard; with `rows` (row
    ids), only theirs, in that order (computed for them alone, not kept).

    Computed per file straight from the text (the full signature matrix is never held, so a million
    rows keep 128 MB of keys rather than 512 MB of signatures) and kept in the incremental cache. The
    bandings of the same text that checks still to run declared (`banding`) are cut from the same
    signatures in the same pass.
    """
    from .lsh import joined_bandings_keys, lsh_params, recall_threshold, text_bandings_keys
    from .shingles import hash_version

    seed = ctx.settings.seed

    def params(value: float) -> tuple[int, int]:
        return lsh_params(recall_threshold(value), num_perm)

    def key(selection: str, bands: int, band_rows: int) -> tuple:
        return ("lsh-band-keys", selection, num_perm, ngram, CHAR_NGRAM, seed, bands, band_rows,
                ALGORITHM_VERSION, hash_version())

    def compute(bandings):
        return lambda texts: text_bandings_keys(texts, bandings, num_perm=num_perm, ngram=ngram,
                                                char_ngram=CHAR_NGRAM, seed=seed)

    def unbuilt(selection: str, own=()) -> list[tuple[int, int]]:
        """The bandings of `selection` that checks still to run declared, and `own`, not built yet."""
        declared = {params(t) for t in _planned_bandings(ctx, selection, num_perm, ngram)} | set(own)
        return sorted(b for b in declared if not ctx.memoized(key(selection, *b)))

    own = params(threshold)
    if rows is not None:
        return compute([own])(ctx.text_rows(text, rows))
    if not ctx.memoized(key(text, *own)):
        pair = _joined_with(ctx, text, num_perm, ngram)
        first, second, joined = pair or (text, None, None)
        first_bandings = unbuilt(first, [own] if text == first else [])
        joined_bandings = unbuilt(joined, [own] if text == joined else []) if pair else []
        if first_bandings and joined_bandings:
            # a text and the selection it opens (input, input+response): one pass signs the first's words
            # for both (`joined_signatures`)
            ctx.per_file_columns(
                [key(first, *b) for b in first_bandings] + [key(joined, *b) for b in joined_bandings],
                [bands for bands, _ in first_bandings + joined_bandings],
                lambda frame: _once_per_text(
                    [ctx.text_of(first, frame), ctx.text_of(second, frame)],
                    lambda a, b: joined_bandings_keys(a, b, first_bandings, joined_bandings, num_perm=num_perm,
                                                      ngram=ngram, char_ngram=CHAR_NGRAM, seed=seed)))
        else:
            together = unbuilt(text, [own])
            if len(together) > 1:
                ctx.per_file_columns([key(text, *b) for b in together], [bands for bands, _ in together],
                                     lambda frame: _once_per_text(ctx.text_of(text, frame), compute(together)))
    return ctx.per_file(key(text, *own), lambda frame: _once_per_text(ctx.text_of(text, frame), compute([own])))


def _joined_with(ctx: Any, text: str, num_perm: int, ngram: int) -> tuple[str, str, str] | None:
    """(first, second, joined) when `text` is a selection of two parts whose first part has bandings
    that checks still to run declared, or one part opening such a selection (as "input" opens
    "input+response"): the pair whose band keys one pass builds. Else None."""
    parts = text.split("+")
    if len(parts) == 2:
        return (parts[0], parts[1], text) if _planned_bandings(ctx, parts[0], num_perm, ngram) else None
    if len(parts) == 1:
        prefix, suffix = f"lsh-band-keys:{text}+", f"/{num_perm}/{ngram}"
        for declared in sorted(ctx.planned):
            selection = declared[len("lsh-band-keys:"):].split("@")[0]
            if declared.startswith(prefix) and declared.endswith(suffix) and selection.count("+") == 1:
                return text, selection.split("+")[1], selection
    return None


def near_pairs(ctx: Any, rows, *, text: str, threshold: float, other_rows=None, num_perm: int = 128,
               ngram: int = 3, verify: str = "jaccard", same: tuple[str, ...] = ()):
    """Pairs of rows whose `text` has Jaccard similarity >= threshold, found by LSH, never all-pairs.

    Copies are compared once. Rows of one set whose `text` (and the functions offered, and the text
    selections named in `same`) are identical after normalization stand behind one representative,
    the smallest row id: only representatives go through LSH and verification, and every other copy
    pairs with its representative at similarity 1.0 (so the pair graph keeps its components, and a
    million identical rows make a million pairs, not a million squared). Across sets, every copy in
    `rows` gets the pairs of its representative, with the representatives of `other_rows`.

    Args:
        ctx: the audit context.
        rows: row ids to compare among themselves (or with `other_rows`).
        text: the text selection, as for `ctx.text` (e.g. "input+response").
        threshold: minimum similarity of a reported pair.
        other_rows: when given, only pairs (a in rows, b in other_rows) are returned.
        verify: "jaccard" (exact Jaccard of the shingle sets) or "estimate" (MinHash estimate).
        same: further text selections (e.g. "label") that copies must share, when the caller tells
            pairs apart by them: a copy then stands for its representative in every pair.

    Returns:
        A polars DataFrame with columns left, right (row ids; left < right within one set, left from
        `rows` and right from `other_rows` across sets) and similarity, sorted by (left, right).
        Rows with empty text never pair, nor do rows that offer different functions (`tools`).
    """
    import numpy as np
    import polars as pl

    from .lsh import candidate_pairs, cross_candidate_pairs
    from .minhash import estimated_jaccard

    if verify not in ("jaccard", "estimate"):
        raise ValueError("verify must be 'jaccard' or 'estimate'")
    nonempty = ctx.text_keys(text)[:, 2] > 0
    specs = list(dict.fromkeys([text, "tools", *same]))
    ids_a = _ids(rows, nonempty)
    reps_a = _copies(ctx, ids_a, specs)
    unique_a = ids_a[reps_a == ids_a]  # the representatives: sorted, as ids are
    ids_b = None if other_rows is None else _ids(other_rows, nonempty)
    unique_b = None if ids_b is None else ids_b[_copies(ctx, ids_b, specs) == ids_b]
    compared = len(unique_a) + (0 if ids_b is None else len(unique_b))
    # Mostly copies (a million identical rows): hash the representatives alone rather than hold keys
    # for every row of the frame. Either way the same function of the same texts: the same pairs.
    few = compared * 2 < len(ids_a) + (0 if ids_b is None else len(ids_b))
    if few:
        wanted = unique_a if unique_b is None else np.concatenate([unique_a, unique_b])
        keys = band_keys(ctx, text, threshold=threshold, num_perm=num_perm, ngram=ngram, rows=wanted)
        keys_a, keys_b = keys[:len(unique_a)], keys[len(unique_a):]
    else:
        keys = band_keys(ctx, text, threshold=threshold, num_perm=num_perm, ngram=ngram)
        keys_a, keys_b = keys[unique_a], None if unique_b is None else keys[unique_b]
    # another engine pairs the same keys by the same kernels, partition by partition
    engine = getattr(ctx, "_engine", None)
    if other_rows is None:
        left, right = candidate_pairs(keys_a) if engine is None else engine.candidate_pairs(keys_a)
        left, right = unique_a[left], unique_a[right]
    else:
        left, right = (cross_candidate_pairs(keys_a, keys_b) if engine is None
                       else engine.cross_candidate_pairs(keys_a, keys_b))
        left, right = unique_a[left], unique_b[right]
    del keys, keys_a, keys_b
    if verify == "estimate":
        if few and len(left):
            involved = np.unique(np.concatenate([left, right]))
            sigs = signatures(ctx, text, num_perm=num_perm, ngram=ngram, rows=involved)
            similarity = estimated_jaccard(sigs, np.searchsorted(involved, left), np.searchsorted(involved, right))
        else:
            sigs = signatures(ctx, text, num_perm=num_perm, ngram=ngram)
            similarity = estimated_jaccard(sigs, left, right)
    else:
        similarity = pair_jaccard(ctx, text, left, right, ngram=ngram)
    # rows offering different functions are different examples, however alike their texts
    tools = ctx.text_keys("tools")
    keep = (similarity >= threshold) & (tools[left, :2] == tools[right, :2]).all(axis=1)
    pairs = pl.DataFrame({"left": left[keep], "right": right[keep], "similarity": similarity[keep]},
                         schema={"left": pl.Int64, "right": pl.Int64, "similarity": pl.Float64})
    copies = pl.DataFrame({"copy": ids_a, "left": reps_a}).filter(pl.col("copy") != pl.col("left"))
    if copies.height:
        if other_rows is None:
            star = copies.select("left", right="copy", similarity=pl.lit(1.0))
            pairs = pl.concat([pairs, star])
        else:
            pairs = pl.concat([pairs, pairs.join(copies, on="left").select(left="copy", right="right",
                                                                           similarity="similarity")])
    return pairs.sort("left", "right")


def _copies(ctx: Any, ids, specs: list[str]):
    """For each row id of `ids` (sorted), the smallest id in `ids` whose text selections `specs` are all
    the same (compared by one 128-bit key per row: integers, no text copied)."""
    import numpy as np
    import polars as pl

    from .shingles import _fmix64


    if not len(ids):
        return ids
    # Each selection's two independently seeded 64-bit hashes (128 bits: no collision in practice),
    # chained lane by lane into one key per row: two integer columns to group on, however many parts.
    lanes = [np.full(len(ids), 0x9E3779B97F4A7C15, np.uint64), np.full(len(ids), 0xBF58476D1CE4E5B9, np.uint64)]
    for spec in specs:
        keys = ctx.text_keys(spec)
        if not keys.strides[0]:
            continue  # one key seen on every row (a selection no row has) tells no row apart
        keys = keys[ids]
        for i in (0, 1):
            lanes[i] = _fmix64((lanes[i] * np.uint64(0x94D049BB133111EB)) ^ keys[:, i])
    # a row whose first lane is unique has no copy: only rows sharing it are grouped (most rows of most
    # sets have none, and a window over every row cost ~4 ms per 100,000 rows and selection)
    shared = np.flatnonzero(pl.Series(lanes[0]).is_duplicated().to_numpy())
    reps = np.asarray(ids, dtype=np.int64).copy()
    if len(shared):
        grouped = pl.DataFrame({"row": reps[shared], "key0": lanes[0][shared], "key1": lanes[1][shared]})
        reps[shared] = grouped.select(pl.col("row").min().over("key0", "key1"))["row"].to_numpy()
    return reps


def pair_jaccard(ctx: Any, text: str, left, right, *, ngram: int = 3):
    """Exact Jaccard similarity of the shingle sets of `text` of each pair (left[i], right[i]) of row
    ids, shingled as the signatures are (word n-grams; character 5-grams for shorter texts)."""
    import numpy as np

    from .shingles import jaccard, shingle_hashes

    left, right = np.asarray(left, np.int64), np.asarray(right, np.int64)
    if not len(left):
        return np.zeros(0, np.float64)
    involved = np.unique(np.concatenate([left, right]))
    texts = ctx.text_rows(text, involved)
    engine = getattr(ctx, "_engine", None)
    if engine is not None:
        return engine.pair_jaccard(texts, np.searchsorted(involved, left), np.searchsorted(involved, right),
                                   ngram=ngram, char_ngram=CHAR_NGRAM, seed=ctx.settings.seed)
    offsets, hashes = shingle_hashes(texts, ngram=ngram, char_ngram=CHAR_NGRAM, seed=ctx.settings.seed)
    return jaccard(offsets, hashes, np.searchsorted(involved, left), np.searchsorted(involved, right))


def _ids(rows, nonempty):
    import numpy as np

    ids = np.asarray(rows.to_numpy() if hasattr(rows, "to_numpy") else rows, dtype=np.int64)
    if len(ids) and not (ids[1:] > ids[:-1]).all():  # row ids of a frame come sorted and unique
        ids = np.unique(ids)
    return ids[nonempty[ids]]


def exact_groups(ctx: Any):
    """Exact-duplicate representative of every frame row: the smallest row id of the same file whose
    normalized system prompt, user side, response, label and functions offered are all identical
    (itself when unique or invalid). An int64 array aligned with ctx.frame, computed once per audit.

    Comparing the parts (not one joined text) keeps "prompt" and "response" apart; the user side and
    response come joined as `ctx.text_keys("input+response")`, the selection near-duplicates also uses.
    """
    import numpy as np


    def build():
        out = np.arange(ctx.frame.height, dtype=np.int64)
        for data in ctx.files:
            part = ctx.frame.slice(data.first_row, data.lines)
            rows = part["row"].filter(part["valid"]).to_numpy()
            out[rows] = _copies(ctx, rows, ["system", "input+response", "label", "tools"])
        return out

    return ctx.shared(("exact-groups", ALGORITHM_VERSION), build)


def same_prompt(ctx: Any, left, right):
    """For each pair (left[i], right[i]) of row ids: True when the normalized prompts (system prompt,
    user side and functions offered) are identical but the response or label differs: a
    contradiction, not a duplicate."""
    import numpy as np
    import polars as pl


    left = np.asarray(left, np.int64)
    right = np.asarray(right, np.int64)
    if len(left) == 0:
        return np.zeros(0, bool)
    ids = np.unique(np.concatenate([left, right]))
    sub = ctx.frame[pl.Series(ids)]
    parts = {name: matching_text(sub, [name]).to_numpy() for name in ("system", "input", "response", "label", "tools")}
    a, b = np.searchsorted(ids, left), np.searchsorted(ids, right)
    prompt_equal = ((parts["system"][a] == parts["system"][b]) & (parts["input"][a] == parts["input"][b])
                    & (parts["tools"][a] == parts["tools"][b]))
    answer_equal = (parts["response"][a] == parts["response"][b]) & (parts["label"][a] == parts["label"][b])
    return prompt_equal & ~answer_equal


def clusters(left, right):
    """Connected components of a pair graph of row ids (union-find, see `graph.components`).

    Returns:
        ``(ids, labels)``: the sorted distinct row ids in any pair and, for each, its component label
        (the component's smallest row id).
    """
    import numpy as np

    from .graph import components

    left = np.asarray(left, np.int64)
    right = np.asarray(right, np.int64)
    ids = np.unique(np.concatenate([left, right]))
    labels = components(len(ids), np.searchsorted(ids, left), np.searchsorted(ids, right))
    return ids, ids[labels]


def member_texts(ctx: Any, ids, *, limit: int = 300) -> list[str]:
    """What a report shows of each row: the raw user side (system prompt left out, it is usually shared),
    a newline, the response (or `label: ...`), cut to about `limit` characters."""
    import polars as pl


    sub = ctx.frame[pl.Series(list(ids), dtype=pl.Int64)]
    user = user_side()
    answer = pl.coalesce(pl.col("response"), pl.lit("label: ") + pl.col("label"), pl.lit(""))
    texts = sub.select(pl.concat_str([user.fill_null(""), answer], separator="\n").alias("t"))["t"].to_list()
    return [t if len(t) <= limit else t[: limit - 1] + "…" for t in texts]


def fmix64(hashes):
    """MurmurHash3's 64-bit finalizer on a uint64 array (in place): spreads a polynomial hash's bits."""
    from .shingles import _fmix64

    return _fmix64(hashes)
