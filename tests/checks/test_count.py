from auditor.testing import make_context, run_check
from dataset_auditor_checks.count import Count


def labelled(label_counts):
    records = []
    for label, n in label_counts.items():
        records += [{"text": f"{label} example number {i}", "label": label} for i in range(n)]
    return records


def test_counts_per_file_and_label_and_warns_on_small_classes():
    train = labelled({"card_arrival": 12, "top_up": 3, "refund": 10})
    train.insert(5, "{broken")
    result = run_check(Count, train, [{"text": "x", "label": "top_up"}, {"text": "y", "label": "lost_card"}])
    assert result.metrics["per_label"] == {"card_arrival": 12, "refund": 10, "top_up": 3}
    assert result.metrics["eval_per_label"] == {"lost_card": 1, "top_up": 1}
    assert (result.metrics["smallest_label"], result.metrics["smallest_count"]) == ("top_up", 3)
    files = result.metrics["files"]
    assert [(f["lines"], f["parsed"], f["valid"]) for f in files.values()] == [(26, 25, 25), (2, 2, 2)]
    assert [(f.location.line, f.severity.value, f.message) for f in result.findings] == [
        (2, "error", "Eval label 'lost_card' never appears in train"),
        (14, "warning", "Label 'top_up' has 3 train examples, fewer than 10"),
    ]
    assert result.status.value == "fail"


def test_option_changes_the_minimum():
    result = run_check(Count, labelled({"a": 3, "b": 3}), min_per_label=3)
    assert result.findings == [] and result.status.value == "pass"


def test_generation_data_has_no_label_metrics_and_passes():
    train = [{"prompt": f"p{i}", "completion": "c" * (i * 30)} for i in range(1, 5)]
    result = run_check(Count, train)
    assert "per_label" not in result.metrics and result.findings == []
    assert result.metrics["train_response_length_histogram"]["counts"][:4] == [1, 2, 1, 0]


def test_length_histogram_bins_by_characters():
    ctx = make_context([{"prompt": "x" * n, "completion": "y"} for n in (1, 49, 50, 99, 100, 20000)])
    result = Count(Count.make_options({})).run(ctx)
    assert result.metrics["train_prompt_length_histogram"]["counts"] == [2, 2, 1, 0, 0, 0, 0, 0, 0, 1]
