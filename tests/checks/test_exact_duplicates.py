"""Tests for the exact-duplicates check."""

from conftest import chat, distinct_chats, planted_problems, sample_context

from auditor.testing import run_check
from dataset_auditor_checks.exact_duplicates import ExactDuplicates


def test_reports_each_group_on_its_first_line_and_excludes_the_copies():
    train = distinct_chats(10)
    train[3] = chat("Where is my parcel?", "It ships today.")
    train[6] = chat("  where is MY   parcel? ", "It ships TODAY.")  # same after normalization
    train[8] = chat("Where is my parcel?", "It ships today.")
    train[1] = chat("Reset my password", "Use the link.")
    train[9] = chat("Reset my password", "Use the link.")
    result = run_check(ExactDuplicates, train)
    got = [(f.location.line, [r.line for r in f.related], f.data["lines"], f.message) for f in result.findings]
    assert got == [
        (2, [10], [2, 10], "Same prompt and response on 2 lines: 2, 10"),
        (4, [7, 9], [4, 7, 9], "Same prompt and response on 3 lines: 4, 7, 9"),
    ]
    assert sorted(result.excluded) == [6, 8, 9]
    assert all(f.severity.value == "warning" and f.code == "DUP001" for f in result.findings)
    members = result.findings[1].data["members"]
    assert members == [{"line": 4, "text": "Where is my parcel?\nIt ships today."},
                       {"line": 7, "text": "  where is MY   parcel? \nIt ships TODAY."}]
    assert result.metrics["clusters"] == 2 and result.metrics["duplicate_rows"] == 3
    assert result.metrics["cluster_sizes"] == {"2": 1, "3": 1}
    assert result.status.value == "warn"


def test_different_system_prompt_response_or_label_is_not_a_duplicate():
    train = [chat("Where is my parcel?", "It ships today."),
             chat("Where is my parcel?", "It ships today.", system="You are a pirate."),
             chat("Where is my parcel?", "It ships tomorrow."),
             {"text": "great product", "label": "positive"},
             {"text": "great product", "label": "negative"}]
    assert run_check(ExactDuplicates, train[:3]).findings == []
    assert run_check(ExactDuplicates, train[3:]).findings == []


def test_within_each_file_not_across_files():
    train = distinct_chats(5)
    evals = distinct_chats(4, start=100)
    evals[2] = evals[0]
    evals[3] = train[1]  # train/eval overlap is leakage, not a duplicate
    result = run_check(ExactDuplicates, train, evals)
    assert [(f.location.path.endswith("eval.jsonl"), f.split, f.data["lines"]) for f in result.findings] == [
        (True, "eval", [1, 3])]
    assert sorted(result.excluded) == [5 + 2]


def test_invalid_rows_are_ignored():
    train = [chat("a question here", "an answer"), '{"broken', chat("a question here", "an answer")]
    result = run_check(ExactDuplicates, train)
    assert [f.data["lines"] for f in result.findings] == [[1, 3]]


def test_clean_dataset_passes():
    result = run_check(ExactDuplicates, distinct_chats(50))
    assert result.findings == [] and result.excluded == frozenset() and result.status.value == "pass"
    assert result.summary == "no exact duplicates among 50 rows"


def test_sample_data_planted_duplicates():
    result = ExactDuplicates().run(sample_context())
    assert all(f.split == "train" for f in result.findings)
    assert [f.data["lines"] for f in result.findings] == planted_problems()["train.jsonl"]["exact_duplicates"]


def test_one_group_reads_in_the_singular():
    train = distinct_chats(5)
    train[3] = chat("Where is my parcel?", "It ships today.")
    train[4] = chat("Where is my parcel?", "It ships today.")
    assert run_check(ExactDuplicates, train).summary == "1 group of identical rows, 1 copy excluded"


def test_a_huge_group_lists_a_bounded_number_of_lines():
    from auditor import MAX_RELATED

    train = [chat("Where is my parcel?", "It ships today.")] * (MAX_RELATED + 500)
    [finding] = run_check(ExactDuplicates, train).findings
    assert finding.message.startswith(f"Same prompt and response on {MAX_RELATED + 500:,} lines: 1, 2, 3")
    assert len(finding.related) == MAX_RELATED - 1 and len(finding.data["lines"]) == MAX_RELATED
    assert finding.data["line_count"] == MAX_RELATED + 500
