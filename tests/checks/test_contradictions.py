"""contradictions: one prompt taught with different labels or different answers."""

import json
import random
from pathlib import Path

import pytest
from conftest import planted_problems, sample_context

from auditor import ConfigError, Settings
from auditor.testing import make_context, run_check
from dataset_auditor_checks.contradictions import Contradictions

ROOT = Path(__file__).resolve().parents[2]
WORDS = ["account", "invoice", "order", "parcel", "refund", "screen", "login", "password", "card", "payment",
         "router", "update", "crash", "printer", "shipping", "tracking", "address", "browser", "laptop", "phone",
         "discount", "coupon", "plan", "upgrade", "error", "message", "delay", "warehouse", "courier", "battery",
         "charger", "cable", "monitor", "keyboard", "subscription", "renewal"]


def sentence(i, n=30):
    """A distinct pseudo-random ticket text (seeded by i) of n words."""
    rng = random.Random(i)
    return f"ticket {i} " + " ".join(rng.choice(WORDS) for _ in range(n))


def labelled(texts_labels):
    return [{"text": t, "label": label} for t, label in texts_labels]


def filler(start, count):
    return [(sentence(i), ["billing", "refund", "shipping"][i % 3]) for i in range(start, start + count)]


def chat(user, answer, system="You are a support assistant."):
    messages = [{"role": "system", "content": system}] if system is not None else []
    return {"messages": messages + [{"role": "user", "content": user},
                                    {"role": "assistant", "content": answer if isinstance(answer, str)
                                     else json.dumps(answer)}]}


def pc(prompt, completion):
    return {"prompt": prompt, "completion": completion}


def lines(result):
    return [(f.location.line, f.code, f.severity.value, [r.line for r in f.related]) for f in result.findings]


# -- classification ----------------------------------------------------------------------------

def test_label_conflict_is_an_error_with_counts_and_majority():
    rows = filler(0, 10)
    rows[2] = ("I was charged twice this month", "billing")
    rows[5] = ("I was charged twice this month", "refund")
    rows[8] = ("i was  CHARGED twice this month", "billing")  # same after normalization
    result = run_check(Contradictions, labelled(rows))
    assert lines(result) == [(3, "CON001", "error", [6, 9])]
    finding = result.findings[0]
    assert finding.message == ("3 rows share this prompt with 2 different labels: "
                               "'billing' (2, majority), 'refund' (1)")
    assert finding.data["lines"] == [3, 6, 9]
    assert finding.data["labels"] == {"3": "billing", "6": "refund", "9": "billing"}
    assert finding.data["counts"] == {"billing": 2, "refund": 1}
    assert finding.data["majority"] == "billing"
    assert finding.data["members"] == [{"line": 3, "text": "billing"}, {"line": 6, "text": "refund"},
                                       {"line": 9, "text": "billing"}]
    assert finding.data["prompt"] == "I was charged twice this month"  # the evidence beside the answers
    assert result.status.value == "fail"
    assert result.excluded == frozenset({2, 5, 8})  # drop-all: row ids of lines 3, 6, 9
    assert result.metrics["groups"] == 1 and result.metrics["rows_involved"] == 3
    assert result.metrics["rows_excluded"] == 3


def test_same_label_twice_is_not_a_conflict():
    rows = filler(0, 10)
    rows[1] = rows[7] = ("Where is my parcel?", "shipping")
    result = run_check(Contradictions, labelled(rows))
    assert result.findings == [] and result.status.value == "pass" and result.excluded == frozenset()
    assert result.metrics["groups"] == 0


def test_clean_dataset_passes():
    result = run_check(Contradictions, labelled(filler(0, 40)))
    assert result.findings == [] and result.status.value == "pass"


def test_keep_majority_excludes_only_the_minority():
    rows = filler(0, 10)
    for i in (1, 4, 7):
        rows[i] = ("Cancel my plan please", "cancellation")
    rows[9] = ("Cancel my plan please", "refund")
    result = run_check(Contradictions, labelled(rows), resolve="keep-majority")
    assert lines(result) == [(2, "CON001", "error", [5, 8, 10])]
    assert result.excluded == frozenset({9})
    assert result.metrics["rows_excluded"] == 1 and result.metrics["rows_involved"] == 4
    assert run_check(Contradictions, labelled(rows)).excluded == frozenset({1, 4, 7, 9})  # drop-all


def test_keep_majority_tie_excludes_the_whole_group():
    rows = filler(0, 6)
    rows[0] = rows[3] = ("Refund the duplicate charge", "billing")
    rows[4] = ("Refund the duplicate charge", "refund")
    rows[5] = ("Refund the duplicate charge", "refund")
    result = run_check(Contradictions, labelled(rows), resolve="keep-majority")
    assert result.findings[0].data["majority"] is None
    assert "(2)" in result.findings[0].message and "majority" not in result.findings[0].message
    assert result.excluded == frozenset({0, 3, 4, 5})


def test_copies_of_a_prompt_joined_to_a_near_one_form_one_group_with_every_copy_listed():
    base = sentence(2000, 40)
    reworded = base + " thanks"
    rows = filler(0, 30)
    for i in (2, 9, 17, 25):
        rows[i] = (base, "billing")  # four copies of one prompt, one node of the pair graph
    rows[12] = (reworded, "refund")  # near the copies: the same group
    rows[20] = rows[28] = (sentence(3000, 40), "shipping")  # copies that agree: no group to read
    result = run_check(Contradictions, labelled(rows), resolve="keep-majority")
    assert lines(result) == [(3, "CON001", "error", [10, 13, 18, 26])]
    assert result.findings[0].data["line_count"] == 5 and result.excluded == frozenset({12})
    assert run_check(Contradictions, labelled(rows), near=False).findings == []


def test_near_identical_prompts_conflict_only_when_near_is_on():
    base = sentence(1000, 40)
    reworded = base + " thanks"  # one extra word: 3-gram Jaccard 38/39
    rows = filler(0, 12)
    rows[3] = (base, "billing")
    rows[10] = (reworded, "refund")
    result = run_check(Contradictions, labelled(rows))
    assert lines(result) == [(4, "CON001", "error", [11])]
    assert result.findings[0].message.startswith("2 rows share this prompt or a near-identical one with 2 different")
    assert result.findings[0].data["near"] is True
    off = run_check(Contradictions, labelled(rows), near=False)
    assert off.findings == [] and off.excluded == frozenset()
    # Below the threshold: not the same prompt.
    assert run_check(Contradictions, labelled(rows), threshold=0.99).findings == []


def test_eval_files_are_checked_separately_from_train():
    train = filler(0, 10)
    train[0] = ("My invoice is wrong", "billing")
    evaluation = filler(100, 6)
    evaluation[1] = ("My invoice is wrong", "refund")  # train/eval overlap: not this check's job
    evaluation[2] = ("Package never arrived", "shipping")
    evaluation[4] = ("Package never arrived", "refund")
    result = run_check(Contradictions, labelled(train), labelled(evaluation))
    assert [(Path(f.location.path).name, f.location.line, f.split) for f in result.findings] == [
        ("eval.jsonl", 3, "eval")]
    assert [r.line for r in result.findings[0].related] == [5]


# -- generation --------------------------------------------------------------------------------

def test_json_outputs_equal_up_to_key_order_are_not_a_conflict():
    records = [pc(sentence(i), json.dumps({"category": "billing", "n": i})) for i in range(8)]
    records[2] = pc("Charged twice", '{"a":1,"b":2}')
    records[6] = pc("Charged twice", '{"b": 2,  "a": 1}')
    result = run_check(Contradictions, records)
    assert result.findings == [] and result.status.value == "pass"


def test_json_numbers_are_compared_by_value():
    records = [pc(sentence(i), json.dumps({"category": "billing", "n": i})) for i in range(8)]
    records[2] = pc("Charged twice", '{"priority": 1, "refund": true, "items": [2.0, 3]}')
    records[6] = pc("Charged twice", '{"priority": 1.0, "refund": true, "items": [2, 3e0]}')
    assert run_check(Contradictions, records).findings == []
    records[6] = pc("Charged twice", '{"priority": 1.5, "refund": true, "items": [2, 3]}')
    assert lines(run_check(Contradictions, records)) == [(3, "CON002", "error", [7])]
    records[6] = pc("Charged twice", '{"priority": 1, "refund": 1, "items": [2, 3]}')  # true is not 1
    assert lines(run_check(Contradictions, records)) == [(3, "CON002", "error", [7])]


def test_structured_differing_responses_are_an_error():
    records = [pc(sentence(i), json.dumps({"category": "billing", "n": i})) for i in range(8)]
    records[1] = pc("Charged twice", '{"category": "billing", "priority": "high"}')
    records[5] = pc("Charged twice", '{"priority": "low", "category": "billing"}')
    result = run_check(Contradictions, records)
    assert lines(result) == [(2, "CON002", "error", [6])]
    finding = result.findings[0]
    assert finding.message == ("2 rows share this prompt with 2 different responses, differing in 'priority': "
                               '"high" (1), "low" (1)')
    assert finding.data["kind"] == "structured"
    assert finding.data["responses"] == {"2": '{"category": "billing", "priority": "high"}',
                                         "6": '{"priority": "low", "category": "billing"}'}
    assert finding.data["majority"] is None
    assert [m["line"] for m in finding.data["members"]] == [2, 6]


def test_structured_task_or_schema_makes_plain_text_differences_errors():
    records = [pc(sentence(i), f"Answer {i}") for i in range(6)]
    records[0] = pc("Is the store open on Sunday?", "Yes, from 10 to 4.")
    records[3] = pc("Is the store open on Sunday?", "No, it is closed.")
    free = run_check(Contradictions, records)  # unknown task, not JSON: free text
    assert lines(free) == [(1, "CON003", "warning", [4])]
    assert free.status.value == "warn"
    for settings, schema in ((Settings(task="structured"), None), (Settings(task="classification"), None),
                             (Settings(), {"type": "string"})):
        ctx = make_context(records, settings=settings, schema=schema)
        assert lines(run_check(Contradictions, ctx=ctx)) == [(1, "CON002", "error", [4])]
    ctx = make_context(records, settings=Settings(task="free-text"), schema={"type": "string"})
    assert lines(run_check(Contradictions, ctx=ctx)) == [(1, "CON003", "warning", [4])]


def test_free_text_alternatives_without_a_final_answer_are_not_contradictions():
    answer = ("To reset your password open the settings page, choose security, click reset password and "
              "follow the link we send to your email address within the next twenty four hours")
    records = [pc(sentence(i), f"Reply {i}: " + sentence(i + 500, 12)) for i in range(10)]
    records[2] = pc("How do I reset my password?", answer)
    records[7] = pc("How do I reset my password?", "Call our hotline, an agent will reset it for you.")
    # FastChat identity data: paraphrased answers to one question
    records[4] = pc("Who are you?", "I am Vicuna, a language model trained by researchers from LMSYS.")
    records[5] = pc("Who are you?", "My name is Vicuna, and I'm a language model developed by LMSYS.")
    # OpenAssistant trees: ranked alternative replies to one turn
    records[8] = pc("Thanks!", "You're welcome!")
    records[9] = pc("Thanks!", "Glad I could help. No problem!")
    for settings in (Settings(), Settings(task="free-text")):
        result = run_check(Contradictions, ctx=make_context(records, settings=settings))
        assert result.findings == [] and result.excluded == frozenset()


def test_free_text_same_final_answer_in_other_words_is_no_contradiction():
    # GSM8K train lines 2484 and 6692: one problem told with two names, both solutions end in "#### 7"
    records = [pc(sentence(i), f"Reply {i}") for i in range(8)]
    question = "Amanda bought 2 cassette tapes for $9 each and a headphone set. How many dollars remain of $50?"
    records[1] = pc(question, "The cassette tapes will cost 2 x 9 = $<<2*9=18>>18.\nShe has 50 - 18 - 25 = 7 left.\n#### 7")
    records[6] = pc(question + " ", "Amanda spent 2 tapes * $9/tape + $25 = $43.\n$50 - $43 = $7\n#### 7")
    assert run_check(Contradictions, records).findings == []
    # another final answer is a contradiction: a warning that keeps both rows
    records[6] = pc(question, "Amanda spent 2 * 9 = 18 dollars.\n#### 32")
    result = run_check(Contradictions, records)
    assert lines(result) == [(2, "CON003", "warning", [7])]
    assert result.findings[0].message == "2 rows share this prompt with 2 different final answers: '7' (1), '32' (1)"
    assert result.excluded == frozenset() and result.status.value == "warn"
    dropped = run_check(Contradictions, records, drop_free_text=True)
    assert dropped.excluded == frozenset({1, 6})


def test_free_text_final_answers_are_read_the_way_evaluations_read_them():
    records = [pc(sentence(i), f"Reply {i}") for i in range(12)]
    records[0] = pc("What is 6 x 7?", "Six sevens make forty-two, so the answer is 42.")
    records[3] = pc("What is 6 x 7?", "42")
    records[5] = pc("What is 6 x 7?", "We get $\\boxed{41}$.")
    records[7] = pc("What is 6 x 7?", "Let me think about multiplication tables for a while.")  # no answer
    records[9] = pc("What is 6 x 7?", "$42.00")
    result = run_check(Contradictions, records, resolve="keep-majority", drop_free_text=True)
    assert lines(result) == [(1, "CON003", "warning", [4, 6, 10])]
    assert result.findings[0].data["counts"] == {"42": 3, "41": 1}
    assert result.excluded == frozenset({5})  # the minority answer only


def test_same_user_turn_under_different_system_prompts_is_not_a_conflict():
    user = sentence(2000, 40)
    records = [chat(sentence(i), {"category": "billing", "n": i}) for i in range(10)]
    records[1] = chat(user, {"category": "billing"}, system="You triage tickets for the billing team.")
    records[6] = chat(user, {"category": "refund"}, system="You triage tickets for the refunds team.")
    records[8] = chat(user + " thanks", {"category": "shipping"}, system="You triage tickets for the shop.")
    assert run_check(Contradictions, records).findings == []
    # Same system prompt: exact and near-identical user turns now conflict.
    records[6] = chat(user, {"category": "refund"}, system="You triage tickets for the billing team.")
    records[8] = chat(user + " thanks", {"category": "shipping"}, system="You triage tickets for the billing team.")
    result = run_check(Contradictions, records)
    assert lines(result) == [(2, "CON002", "error", [7, 9])]
    assert result.findings[0].data["near"] is True
    assert lines(run_check(Contradictions, records, near=False)) == [(2, "CON002", "error", [7])]


def test_members_show_every_variant_and_at_most_four_rows():
    rows = filler(0, 12)
    for i, label in zip((0, 2, 3, 4, 5, 9), ("a", "a", "a", "a", "a", "b")):
        rows[i] = ("Same question", label)
    finding = run_check(Contradictions, labelled(rows)).findings[0]
    assert [m["line"] for m in finding.data["members"]] == [1, 3, 4, 10]
    assert len(finding.related) == 5


def test_threshold_out_of_range_is_a_config_error():
    with pytest.raises(ConfigError):
        run_check(Contradictions, labelled(filler(0, 3)), threshold=1.5)
    with pytest.raises(ConfigError):
        run_check(Contradictions, labelled(filler(0, 3)), resolve="keep-first")


# -- sample_data oracle ------------------------------------------------------------------------

@pytest.mark.parametrize("with_schema", [True, False], ids=["schema", "no-schema"])
def test_sample_data_contradictions_match_the_oracle(with_schema):
    schema = json.loads((ROOT / "sample_data" / "schema.json").read_text()) if with_schema else None
    result = Contradictions().run(sample_context(schema=schema))
    found = [[f.location.line] + [r.line for r in f.related] for f in result.findings]
    assert found == planted_problems()["train.jsonl"]["contradictions"]
    assert all(Path(f.location.path).name == "train.jsonl" for f in result.findings)
    assert {f.code for f in result.findings} == {"CON002"}
    assert result.metrics["rows_excluded"] == 2 * len(found)


def test_thousands_of_copies_are_one_group_with_capped_lists(monkeypatch):
    # 2,000 rows of one prompt: one label on most, another on the rest; lists stop at MAX_RELATED
    monkeypatch.setattr("dataset_auditor_checks.contradictions.MAX_RELATED", 50)
    rows = filler(0, 10) + [("I was charged twice this month", "billing")] * 1_500 \
        + [("I was charged twice this month", "refund")] * 500
    result = run_check(Contradictions, labelled(rows), resolve="keep-majority")
    assert len(result.findings) == 1
    finding = result.findings[0]
    assert finding.location.line == 11
    assert finding.message == ("2,000 rows share this prompt with 2 different labels: "
                               "'billing' (1500, majority), 'refund' (500)")
    assert [r.line for r in finding.related] == list(range(12, 61))
    assert finding.data["lines"] == list(range(11, 61)) and finding.data["line_count"] == 2_000
    assert len(finding.data["labels"]) == 50
    assert result.excluded == frozenset(range(1_510, 2_010))  # the 500 'refund' rows
    assert result.metrics["rows_involved"] == 2_000


def test_copies_with_one_answer_are_no_contradiction():
    rows = filler(0, 10) + [("I was charged twice this month", "billing")] * 3_000
    assert run_check(Contradictions, labelled(rows)).findings == []
