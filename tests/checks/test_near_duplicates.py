"""Tests for the near-duplicates check."""

import numpy as np
import pytest
from conftest import chat, planted_problems, sample_context

from auditor import ConfigError
from auditor.testing import make_context, run_check
from dataset_auditor_checks.near_duplicates import NearDuplicates

LONG_SYSTEM = ("You are the support assistant of an online shop. Be polite, precise and brief. Never promise "
               "refunds you cannot give, always ask for the order number, and answer in English only.")


def words(seed, n):
    rng = np.random.default_rng(seed)
    vocab = [f"w{i}" for i in range(5000)]
    return [str(w) for w in rng.choice(vocab, n)]


def distinct(n, start=0):
    return [chat(" ".join(words(1000 + i, 30)), " ".join(words(5000 + i, 30))) for i in range(start, start + n)]


def reworded(record, position=10, word="changed"):
    user = record["messages"][1]["content"].split()
    user[position] = word
    return chat(" ".join(user), record["messages"][2]["content"], record["messages"][0]["content"])


def test_reports_clusters_with_lines_similarity_and_members():
    train = distinct(30)
    train[12] = reworded(train[2])
    train[20] = reworded(train[2], position=20, word="other")
    train[25] = reworded(train[7], position=5)
    result = run_check(NearDuplicates, train)
    got = [(f.location.line, [r.line for r in f.related], f.data["lines"]) for f in result.findings]
    assert got == [(3, [13, 21], [3, 13, 21]), (8, [26], [8, 26])]
    assert sorted(result.excluded) == [12, 20, 25]
    lo, hi = result.findings[0].data["similarity"]
    assert 0.8 <= lo <= hi < 1.0
    assert [p[:2] for p in result.findings[0].data["pairs"]] == [[3, 13], [3, 21], [13, 21]]
    assert min(p[2] for p in result.findings[0].data["pairs"]) == lo
    assert result.findings[0].message.startswith("Near-duplicates on 3 lines (similarity 0.")
    assert result.findings[0].message.endswith("): 3, 13, 21")
    # every member of a cluster is shown side by side (up to four), each with its own text
    cluster = result.findings[0].data["members"]
    assert [m["line"] for m in cluster] == [3, 13, 21]
    assert cluster[2]["text"].startswith(train[20]["messages"][1]["content"][:40])
    members = result.findings[1].data["members"]
    assert [m["line"] for m in members] == [8, 26]
    assert members[0]["text"].startswith(train[7]["messages"][1]["content"][:40])
    assert all(f.severity.value == "warning" and f.code == "DUP002" for f in result.findings)
    assert result.status.value == "warn" and result.metrics["clusters"] == 2


def test_exact_copies_are_not_reported_twice():
    train = distinct(20)
    train[5] = train[1]  # exact group {2, 6}: exact-duplicates' finding only
    train[9] = dict(train[3])
    train[10] = reworded(train[3])  # near cluster {4, 10, 11} holding the exact group {4, 10}
    result = run_check(NearDuplicates, train)
    assert [f.data["lines"] for f in result.findings] == [[4, 11]]
    assert sorted(result.excluded) == [10]


def test_same_prompt_different_response_is_a_contradiction_not_a_duplicate():
    base = distinct(10)
    answer = base[4]["messages"][2]["content"].split()
    answer[3] = "refund"
    train = base + [chat(base[4]["messages"][1]["content"], " ".join(answer))]
    result = run_check(NearDuplicates, train)
    assert result.findings == [] and result.metrics["same_prompt_pairs_skipped"] == 1
    # A different system prompt makes it a different prompt: then it is a near-duplicate.
    train[-1] = chat(base[4]["messages"][1]["content"], " ".join(answer), system="Be brief.")
    assert [f.data["lines"] for f in run_check(NearDuplicates, train).findings] == [[5, 11]]


def test_shared_system_prompt_does_not_make_short_questions_similar():
    train = [chat(f"where is order {i}?", f"order {i} ships on day {i % 7}.", system=LONG_SYSTEM)
             for i in range(40)]
    assert run_check(NearDuplicates, train).findings == []


def test_short_texts_fall_back_to_character_grams():
    texts = ["refund not received", "refund not recieved", "app crashes on login", "love the new update",
             "shipping was slow", "wrong size delivered"]
    train = [{"text": t, "label": "x"} for t in texts]
    result = run_check(NearDuplicates, train, threshold=0.5, ngram=4)
    assert [f.data["lines"] for f in result.findings] == [[1, 2]]


def test_fields_option():
    train = distinct(20)
    other_answer = " ".join(words(99, 30))
    train[15] = chat(reworded(train[6])["messages"][1]["content"], other_answer)  # same question, new answer
    train[16] = chat(" ".join(words(98, 30)), train[8]["messages"][2]["content"])  # same answer, new question
    assert run_check(NearDuplicates, train).findings == []
    assert [f.data["lines"] for f in run_check(NearDuplicates, train, fields="prompt").findings] == [[7, 16]]
    assert [f.data["lines"] for f in run_check(NearDuplicates, train, fields="response").findings] == [[9, 17]]


def test_estimate_verification_and_within_each_file():
    train = distinct(20)
    evals = distinct(10, start=100)
    evals[7] = reworded(evals[1])
    evals[8] = reworded(train[0])  # train/eval overlap is leakage's job
    result = run_check(NearDuplicates, train, evals, verify="estimate")
    assert [(f.split, f.location.path.endswith("eval.jsonl"), f.data["lines"]) for f in result.findings] == [
        ("eval", True, [2, 8])]
    assert sorted(result.excluded) == [20 + 7]


def test_options_are_validated():
    with pytest.raises(ConfigError, match="threshold"):
        NearDuplicates.make_options({"threshold": 1.5})
    with pytest.raises(ConfigError, match="fields"):
        NearDuplicates.make_options({"fields": "system"})
    with pytest.raises(ConfigError, match="verify"):
        NearDuplicates.make_options({"verify": "exact"})


def test_clean_dataset_passes():
    result = run_check(NearDuplicates, distinct(60))
    assert result.findings == [] and result.excluded == frozenset() and result.status.value == "pass"
    assert result.summary == "no near-duplicates among 60 rows (threshold 0.8)"


def test_quality_against_brute_force():
    """~1,000 chat records with planted rewordings: recall and precision >= 0.95 of the pairs whose
    true Jaccard (all pairs, brute force) is >= the threshold, at the check level."""
    from auditor.similarity import shingles

    rng = np.random.default_rng(3)
    train = distinct(1000)
    for dst in rng.choice(1000, 150, replace=False):
        src = int(rng.integers(0, 1000))
        rec = train[src]
        for _ in range(int(rng.integers(1, 4))):
            rec = reworded(rec, position=int(rng.integers(0, 30)), word=f"x{int(rng.integers(0, 10**6))}")
        train[int(dst)] = rec
    ctx = make_context(train)
    texts = ctx.text("input+response")
    off, hs = shingles.shingle_hashes(texts, seed=ctx.settings.seed)
    ii, jj = np.triu_indices(len(texts), 1)
    sim = shingles.jaccard(off, hs, ii, jj)
    truth = set(zip(ii[sim >= 0.8].tolist(), jj[sim >= 0.8].tolist()))
    assert len(truth) >= 50
    result = NearDuplicates().run(ctx)
    # Precision: the verified pairs that link the clusters; recall: true pairs put in one cluster
    # (clusters are transitive, so they also hold pairs below the threshold linked by a middle row).
    linked = {(a - 1, b - 1) for f in result.findings for a, b, _ in f.data["pairs"]}
    cluster = {line - 1: f.location.line for f in result.findings for line in f.data["lines"]}
    truth -= set(zip(ii[sim == 1.0].tolist(), jj[sim == 1.0].tolist()))  # exact-duplicates' pairs
    recall = sum(1 for a, b in truth if a in cluster and cluster[a] == cluster.get(b)) / len(truth)
    precision = len(linked & truth) / len(linked)
    assert recall >= 0.95 and precision >= 0.95, (recall, precision)


def test_sample_data_planted_near_duplicates_only():
    result = NearDuplicates().run(sample_context())
    assert all(f.split == "train" for f in result.findings)
    assert [f.data["lines"] for f in result.findings] == planted_problems()["train.jsonl"]["near_duplicates"]
    # The planted contradictions (same prompt, reworded answer, Jaccard ~0.93) are not near-duplicates.
    assert result.metrics["same_prompt_pairs_skipped"] == len(planted_problems()["train.jsonl"]["contradictions"])


def test_paths_of_a_conversation_tree_are_not_copies():
    # OpenAssistant root-to-leaf paths: a long shared opening, then different final replies
    opening = " ".join(words(77, 120))

    def path(final, follow_up="tell me more"):
        return {"messages": [{"role": "user", "content": "plan a day trip in Fes"},
                             {"role": "assistant", "content": opening},
                             {"role": "user", "content": follow_up},
                             {"role": "assistant", "content": final}]}

    train = distinct(20) + [path(" ".join(words(90, 12))), path(" ".join(words(91, 12)), "and more")]
    result = run_check(NearDuplicates, train)
    assert result.findings == [] and result.metrics["different_response_pairs_skipped"] == 1
    # the same reply under the follow-up reworded is a copy
    train[-1] = path(" ".join(words(90, 12)), "and more")
    assert [f.data["lines"] for f in run_check(NearDuplicates, train).findings] == [[21, 22]]


def test_minimal_pairs_with_other_labels_are_not_copies():
    texts = [{"text": " ".join(words(300 + i, 12)), "label": f"intent_{i % 4}"} for i in range(20)]
    texts += [{"text": "how many miles can i drive before i need to change my oil", "label": "oil_change_when"},
              {"text": "how many miles can i drive before i need to change my tires", "label": "tire_change"},
              {"text": "how many miles can i drive before i need to change my oil?", "label": "oil_change_when"}]
    result = run_check(NearDuplicates, texts)
    assert [f.data["lines"] for f in result.findings] == [[21, 23]]


def test_labelled_copies_in_train_and_in_eval_are_each_found():
    def rows(start):
        texts = [{"text": " ".join(words(start + i, 12)), "label": f"intent_{i % 4}"} for i in range(20)]
        copy = dict(texts[3], text=texts[3]["text"] + " please")
        return texts + [copy]

    ctx = make_context(rows(500), rows(900))
    result = run_check(NearDuplicates, ctx=ctx)
    assert [(f.split, f.data["lines"]) for f in result.findings] == [("eval", [4, 21]), ("train", [4, 21])]


def test_thousands_of_exact_copies_beside_a_near_copy_are_one_cluster_of_two():
    # 3,000 copies of one row are exact-duplicates' finding; here they count as their first line
    train = distinct(20) + [distinct(1, start=50)[0]] * 3_000
    train.append(reworded(train[20]))
    result = run_check(NearDuplicates, train)
    assert [f.data["lines"] for f in result.findings] == [[21, 3_021]]
    assert sorted(result.excluded) == [3_020]
    assert result.metrics["clusters"] == 1
