from conftest import chat

from auditor.testing import run_check
from checks.format import Format


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
