"""Tests for auditor.similarity: shared signatures, pairs, exact groups, contradiction pairs, clusters."""

import numpy as np
from conftest import chat

from auditor import similarity
from auditor.testing import make_context


def _ctx():
    train = [chat("where is my parcel, it has been ten days now", "it ships today from our warehouse"),
             chat("Where is my parcel, it has been TEN days now", "it ships today from our warehouse"),
             chat("where is my parcel, it has been ten days now", "it ships tomorrow from our warehouse"),
             chat("where is my parcel, it has been ten days now", "it ships today from our warehouse",
                  system="You are a pirate."),
             chat("how do i reset my password on the mobile app", "tap settings then account then reset"),
             '{"broken']
    return make_context(train, [chat("where is my parcel, it has been ten days now",
                                     "it ships today from our warehouse")])


def test_exact_groups_per_file_and_parts():
    reps = similarity.exact_groups(_ctx())
    # rows 0 and 1 equal after normalization; 2 (response), 3 (system) differ; 5 is invalid; 6 is eval.
    assert reps.tolist() == [0, 0, 2, 3, 4, 5, 6]


def test_same_prompt_marks_contradictions_only():
    ctx = _ctx()
    mask = similarity.same_prompt(ctx, [0, 0, 0, 0], [1, 2, 3, 4])
    assert mask.tolist() == [False, True, False, False]
    assert similarity.same_prompt(ctx, [], []).tolist() == []


def test_near_pairs_within_and_across():
    ctx = _ctx()
    pairs = similarity.near_pairs(ctx, [0, 1, 2, 3, 4, 5], text="input+response", threshold=0.6)
    # 1 (same text once normalized) and 3 (same text, another system prompt) are copies of 0
    assert pairs.select("left", "right").rows() == [(0, 1), (0, 2), (0, 3)]
    assert pairs.filter(left=0, right=1)["similarity"].item() == 1.0
    apart = similarity.near_pairs(ctx, [0, 1, 2, 3, 4, 5], text="input+response", threshold=0.6, same=("system",))
    assert apart.select("left", "right").rows() == [(0, 1), (0, 2), (0, 3), (2, 3)]
    cross = similarity.near_pairs(ctx, [0, 4], other_rows=[6], text="input+response", threshold=0.9)
    assert cross.select("left", "right").rows() == [(0, 6)]
    est = similarity.near_pairs(ctx, [0, 1, 4], text="input+response", threshold=0.9, verify="estimate")
    assert est.select("left", "right").rows() == [(0, 1)]


def test_signatures_shared_and_aligned_with_frame():
    ctx = _ctx()
    sig = similarity.signatures(ctx, "input+response")
    assert sig.shape == (ctx.frame.height, 128)
    assert sig is similarity.signatures(ctx, "input+response")
    np.testing.assert_array_equal(sig[0], sig[1])
    assert (sig[5] == 2**32 - 1).all()  # the invalid row has no text


def test_clusters_and_member_texts():
    ids, labels = similarity.clusters(np.array([7, 3, 20]), np.array([3, 9, 21]))
    assert ids.tolist() == [3, 7, 9, 20, 21] and labels.tolist() == [3, 3, 3, 20, 20]
    texts = similarity.member_texts(_ctx(), [3, 4], limit=30)
    assert texts[0] == "where is my parcel, it has be…"
    assert len(texts[1]) == 30


def test_near_pairs_compare_copies_once():
    base = chat("where is my parcel, it has been ten days now", "it ships today from our warehouse")
    near = chat("where is my parcel, it has been ten days now", "it ships today from the warehouse")
    other = chat("how do i reset my password on the mobile app", "tap settings then account then reset")
    ctx = make_context([base, near, base, other, base], [base, base, other])
    pairs = similarity.near_pairs(ctx, [0, 1, 2, 3, 4], text="input+response", threshold=0.5)
    # copies 2 and 4 pair with their first row 0 only, at 1.0; 0 stands for them with row 1
    assert pairs.rows() == [(0, 1, pairs["similarity"][0]), (0, 2, 1.0), (0, 4, 1.0)]
    assert 0.5 <= pairs["similarity"][0] < 1.0
    # across sets every eval copy gets the pairs of its first copy, with the first train copy
    cross = similarity.near_pairs(ctx, [5, 6, 7], other_rows=[0, 1, 2, 3, 4], text="input+response",
                                  threshold=0.5)
    assert cross.select("left", "right").rows() == [(5, 0), (5, 1), (6, 0), (6, 1), (7, 3)]
    # a column the caller tells pairs apart by keeps rows that differ in it apart
    labelled = make_context([{"text": "same words here for all", "label": x} for x in "abba"])
    split = similarity.near_pairs(labelled, [0, 1, 2, 3], text="input", threshold=0.5, same=("label",))
    assert split.select("left", "right").rows() == [(0, 1), (0, 3), (1, 2)]
    merged = similarity.near_pairs(labelled, [0, 1, 2, 3], text="input", threshold=0.5)
    assert merged.select("left", "right").rows() == [(0, 1), (0, 2), (0, 3)]


def test_signatures_of_repeated_texts_equal_those_computed_one_by_one():
    from auditor.similarity import minhash

    texts = ["alpha beta gamma delta", "", "alpha beta gamma delta", "x y z", "", "x y z", "q"]
    ctx = make_context([{"text": t, "label": "a"} for t in texts])
    direct = minhash.text_signatures(ctx.text("input"), num_perm=128, ngram=3, char_ngram=5, seed=1)
    np.testing.assert_array_equal(similarity.signatures(ctx, "input"), direct)


def test_near_pairs_on_mostly_copies_hash_the_representatives_alone_and_find_the_same_pairs():
    base = chat("where is my parcel, it has been ten days now", "it ships today from our warehouse")
    near = chat("where is my parcel, it has been ten days now", "it ships today from the warehouse")
    other = chat("how do i reset my password on the mobile app", "tap settings then account then reset")
    ctx = make_context([base] * 20 + [near, other], [base] * 10 + [near])
    keys_before = set(ctx._shared)
    pairs = similarity.near_pairs(ctx, range(22), text="input+response", threshold=0.5)
    # no band keys were kept for the frame: 3 representatives of 22 rows were hashed on their own
    assert not [k for k in set(ctx._shared) - keys_before if "lsh-band-keys" in str(k)]
    similar = similarity.pair_jaccard(ctx, "input+response", [0], [20])[0]
    assert 0.5 <= similar < 1.0
    assert pairs.rows() == sorted([(0, k, 1.0) for k in range(1, 20)] + [(0, 20, similar)])
    estimated = similarity.near_pairs(ctx, range(22), text="input+response", threshold=0.5, verify="estimate")
    assert estimated.select("left", "right").rows() == pairs.select("left", "right").rows()
    cross = similarity.near_pairs(ctx, range(22, 33), other_rows=range(22), text="input+response", threshold=0.5)
    assert cross.select("left", "right").rows() == [(e, t) for e in range(22, 33) for t in (0, 20)]
    # the same rows among distinct ones (no shortcut) pair the same way
    spread = make_context([base, near, other] + [chat(f"question {i} about topic {i * 7}", f"answer {i}")
                                                 for i in range(10)])
    assert similarity.near_pairs(spread, range(13), text="input+response", threshold=0.5).rows() == [(0, 1, similar)]


def test_a_text_selection_no_row_has_is_one_key_seen_on_every_row():
    ctx = make_context([{"text": "hello there friend", "label": "a"}, {"text": "bye now friend", "label": "b"}])
    keys = ctx.text_keys("system")
    assert keys.shape == (2, 3) and keys.strides[0] == 0 and keys[:, 2].tolist() == [0, 0]
    with_system = make_context([chat("hello there friend", "hi"), chat("bye now friend", "bye", system="")])
    assert with_system.text_keys("system").strides[0] != 0
    assert with_system.text_keys("system")[1].tolist() == keys[0].tolist()  # the key of "" either way
    assert ctx.text_keys("tools").strides[0] == 0
    assert similarity.exact_groups(ctx).tolist() == [0, 1]
