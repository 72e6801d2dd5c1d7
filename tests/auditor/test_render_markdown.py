import re

from render_samples import MARK, big_report, enrich, hostile_train, real_report

from auditor.render.markdown import LIMIT, code, escape, render_markdown


def cells(row: str) -> list[str]:
    """Cells of a GFM table row as cmark-gfm splits them: on every pipe not escaped by a backslash."""
    return re.split(r"(?<!\\)\|", row.strip().strip("|"))


def tables(text: str) -> list[list[str]]:
    out, current = [], []
    for line in text.splitlines():
        if line.startswith("|"):
            current.append(line)
        elif current:
            out.append(current)
            current = []
    return out + ([current] if current else [])


def test_verdict_first_then_checklist_checks_and_top_findings(tmp_path):
    report = enrich(real_report(tmp_path, hostile_train()))
    text = render_markdown(report)
    marker, first = text.splitlines()[:2]
    assert marker == "<!-- dataset-auditor report -->"  # a bot finds its comment by it and edits it
    assert first.startswith("## ❌ NOT READY: 46 clean training examples (10 required)")
    assert text.index("### Decision checklist") < text.index("### Checks") < text.index("### Top findings")
    assert "| `input` | ❌ fail | yes | 1 |" in text
    assert "#### `contradictions`" in text and "#### `near-duplicates`" in text
    assert "`train.jsonl:47`" in text.replace(str(tmp_path) + "/", "")  # the broken line, by number
    assert "(related lines 5)" in text


def test_hostile_rows_keep_table_columns_and_stay_inert(tmp_path):
    text = render_markdown(enrich(real_report(tmp_path, hostile_train())))
    found = tables(text)
    assert len(found) >= 5
    for table in found:
        width = len(cells(table[0]))
        assert all(len(cells(row)) == width for row in table), table
    outside_code = re.sub(r"(`+).*?\1", "", text)
    assert not re.search(r"(?<!\\)<(script|img|svg|a)\b", outside_code)
    assert not re.search(r"(?<!\\)\]\(javascript:", outside_code)  # no link: its bracket is escaped
    assert MARK in text  # the text is there, shown, not dropped
    assert max(len(line) for line in text.splitlines()) < 2000  # the 20,000-character row is cut


def test_escape_and_code_spans():
    assert escape("a|b <x> `c` [d](e) *f* _g_") == r"a\|b \<x\> \`c\` \[d\](e) \*f\* \_g\_"
    assert escape("- item") == r"\- item" and escape("12. item") == r"12\. item"
    assert code("a ``b`` c") == "``` a ``b`` c ```"
    assert code("x|y") == r"`x\|y`"
    assert code("line\nbreak") == "`line break`"


def test_stays_under_the_comment_limit_with_100000_findings(tmp_path):
    report = big_report(real_report(tmp_path, hostile_train()), 100_000)
    text = render_markdown(report)
    assert len(text) <= LIMIT
    assert "99,990 more" in text or "more `near-duplicates` findings" in text
    assert "### Top findings" in text and text.startswith("<!-- dataset-auditor report -->\n## ❌ NOT READY")


def test_dataset_text_cannot_mention_people():
    assert escape("ping @octocat now") == "ping @\u2060octocat now"


def test_bare_urls_from_the_data_do_not_become_links():
    from auditor.render.markdown import escape

    text = escape("click https://evil.example/x or www.evil.example now")
    assert "https://" not in text and "www." not in text
    assert text.replace("\u2060", "") == "click https://evil.example/x or www.evil.example now"


def test_long_sections_fold_and_findings_link_to_their_line_at_the_commit(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()  # the repository root the links are relative to
    report = enrich(real_report(tmp_path, hostile_train()))
    text = render_markdown(report, link_base="https://github.com/org/data/blob/0123abc/")
    assert "### Decision checklist\n\n<details><summary>" in text
    assert text.count("<details>") == text.count("</details>") == 1 + text.count("#### `")
    assert "[`train.jsonl:47`](https://github.com/org/data/blob/0123abc/train.jsonl#L47)" in text.replace(
        str(tmp_path) + "/", "")
    assert "](https" not in render_markdown(report)  # no link base: no links


def test_the_link_base_under_github_actions_is_the_pull_requests_head(tmp_path, monkeypatch):
    import json

    from auditor.cli.outputs import github_link_base

    for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA", "GITHUB_EVENT_PATH"):
        monkeypatch.delenv(name, raising=False)
    assert github_link_base() is None
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", "org/data")
    monkeypatch.setenv("GITHUB_SHA", "merge1")
    assert github_link_base() == "https://github.com/org/data/blob/merge1"
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"head": {"sha": "head2"}}}))
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    assert github_link_base() == "https://github.com/org/data/blob/head2"
