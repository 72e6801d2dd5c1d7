import io

from render_samples import enrich, hostile_train, real_report
from rich.console import Console

from auditor.render.console import print_rich, render_text


def test_plain_text_has_the_markdown_structure_and_finding_lines(tmp_path):
    text = render_text(enrich(real_report(tmp_path, hostile_train())))
    lines = text.splitlines()
    assert lines[0].startswith("NOT READY: 46 clean training examples (10 required)")
    assert text.index("Checklist:") < text.index("Checks:") < text.index("Top findings:")
    assert f"{tmp_path}/train.jsonl:47: error AUD001 input: invalid JSON" in text
    assert f"{tmp_path}/train.jsonl:7: error CON001 contradictions: Same prompt as line 5" in text
    assert max(len(line) for line in lines) < 700  # the 20,000-character row is cut


def test_rich_summary_fits_the_terminal_width(tmp_path):
    report = enrich(real_report(tmp_path, hostile_train()))
    for width in (60, 160):
        out = io.StringIO()
        print_rich(report, Console(file=out, width=width, force_terminal=False, color_system=None))
        text = out.getvalue()
        assert "NOT READY" in text and "Decision checklist" in text and "contradictions: top findings" in text
        assert max(len(line) for line in text.splitlines()) <= width
    assert "excluded" in text  # the wide table has every column
