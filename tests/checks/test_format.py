import random

from conftest import chat

from auditor.testing import run_check
from dataset_auditor_checks.format import Format


def test_reports_each_violation_with_its_line_and_excludes_invalid_rows():
    train = [
        chat("Where is my parcel? It has been ten days.", '{"category": "shipping"}'),
        {"messages": [{"role": "user", "content": "Reset my password"}]},
        {"messages": [{"role": "bot", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]},
        {"prompt": "not chat", "completion": "x"},
        chat("fine", "ok") | {"id": 5},
    ]
    result = run_check(Format, train)
    assert [(f.location.line, f.code, f.severity.value, f.message) for f in result.findings] == [
        (2, "FMT001", "error", "conversation ends with a user turn, not an assistant turn"),
        (3, "FMT001", "error", "messages[0].role 'bot' is not one of system, user, assistant, tool, function"),
        (5, "FMT002", "warning", "unknown top-level keys: id"),
    ]
    assert sorted(result.excluded) == [1, 2]  # rows 1 and 2 are lines 2 and 3
    assert result.status.value == "fail"


def test_clean_dataset_passes():
    result = run_check(Format, [chat(f"question {i}", f"answer {i}") for i in range(20)])
    assert result.findings == [] and result.excluded == frozenset() and result.status.value == "pass"
    assert result.summary == "all 20 records valid"


def test_a_conversation_without_a_user_turn_is_an_error():
    # the OpenAI cookbook's toy file: a system prompt, then the assistant alone
    train = [chat(f"question {i}", f"answer {i}") for i in range(3)]
    train.append({"messages": [{"role": "system", "content": "You are Marv."},
                               {"role": "assistant", "content": "Paris, as if everyone doesn't know that already."}]})
    train.append({"conversations": [{"from": "gpt", "value": "Hello"}]})
    result = run_check(Format, train)
    [missing] = [f for f in result.findings if f.code == "FMT001"]
    assert (missing.location.line, missing.message, [r.line for r in missing.related]) == (
        4, "conversation has no user turn (on 2 lines: 4, 5)", [5])
    assert result.excluded == frozenset({3, 4})


def test_absurdly_long_or_repetitive_targets_are_warnings():
    prose = ("Thanks for writing in. Your parcel left our warehouse on Monday and the courier expects to "
             "deliver it within three working days. ") * 1
    rng = random.Random(3)
    words = ("parcel courier warehouse morning river letter window garden silver engine station harbour "
             "market winter candle ladder meadow pocket thunder violin orchard lantern compass").split()
    story = " ".join(rng.choice(words) + ("." if rng.random() < 0.1 else "") for _ in range(3500))
    train = [chat(f"question {i}", prose + f" Ticket {i}.") for i in range(5)]
    train.append(chat("Tell me more", "Yes! " * 5200))  # 26,000 characters of one phrase
    train.append(chat("Tell me a story", story))  # long, but not repetitive
    train.append(chat("Zeros", "Here is the key: " + "0" * 1500))
    result = run_check(Format, train)
    got = [(f.location.line, f.code, f.severity.value) for f in result.findings]
    assert got == [(6, "FMT003", "warning"), (6, "FMT004", "warning"), (7, "FMT003", "warning"),
                   (8, "FMT004", "warning")]
    assert result.findings[0].message == "target is 26,000 characters long (more than max_target_chars, 20,000)"
    assert result.findings[1].message.startswith("target of 26,000 characters repeats itself: it compresses to 0.")
    assert result.excluded == frozenset() and result.status.value == "warn"
    relaxed = run_check(Format, train, max_target_chars=200_000, min_compression=0.0)
    assert relaxed.findings == []


def test_the_same_problem_on_many_lines_is_one_finding():
    train = [chat(f"question {i}", f"answer {i}") | {"id": i} for i in range(25)]
    train[3] = {"messages": [{"role": "user", "content": "hi"}]}
    train[9] = {"messages": [{"role": "user", "content": "hello"}]}
    result = run_check(Format, train)
    got = [(f.location.line, f.code, len(f.related)) for f in result.findings]
    assert got == [(1, "FMT002", 22), (4, "FMT001", 1)]
    keys = result.findings[0]
    assert keys.message == ("unknown top-level keys: id (on 23 lines: 1, 2, 3, 5, 6, 7, 8, 9, 11, 12 "
                            "and 13 more)")
    assert keys.data["lines"] == [n for n in range(1, 26) if n not in (4, 10)]
    assert result.findings[1].data["lines"] == [4, 10]
    assert result.excluded == frozenset({3, 9})  # every affected row of an error still leaves the clean set
    assert result.metrics["affected_lines"] == 25
