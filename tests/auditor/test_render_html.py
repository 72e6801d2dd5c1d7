import base64
import hashlib
import re
import time

from render_samples import MARK, PAYLOADS, big_report, enrich, hostile_train, real_report

from auditor.render.html import MAX_ROWS, render_html, word_diff


def test_self_contained_with_a_csp_that_allows_only_its_own_script(tmp_path):
    text = render_html(enrich(real_report(tmp_path, hostile_train())))
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', text).group(1)
    assert "default-src 'none'" in csp
    scripts = re.findall(r"<script>(.*?)</script>", text, re.S)
    assert len(scripts) == 1 and text.count("<script") == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)  # no network resource
    assert "<link" not in text and "@import" not in text


def test_dataset_text_is_escaped(tmp_path):
    text = render_html(enrich(real_report(tmp_path, hostile_train())))
    assert "<img src=x" not in text and "onerror=\"document" not in text and "<svg onload" not in text
    assert "&lt;script&gt;document.title=&#x27;PWNED&#x27;" in text  # shown as text
    assert not re.search(r'href="javascript:', text, re.I)
    assert text.count(MARK) > 5


def test_charts_drawn_only_when_their_data_is_there(tmp_path):
    plain = render_html(real_report(tmp_path, [{"text": f"t {i}", "label": "a"} for i in range(5)]))
    assert "Prompt languages" not in plain and "Cluster sizes" not in plain and "Leaked eval rows" not in plain
    rich = render_html(enrich(real_report(tmp_path, hostile_train(), [{"text": "x", "label": "delivery"}] * 6)))
    for title in ("Prompt length distribution", "Label distribution", "Prompt languages",
                  "Response languages", "Cluster sizes (near-duplicates)", "Leaked eval rows per eval file"):
        assert title in rich, title
    assert rich.count("<figure>") == 6  # train and eval labels share one chart


def test_charts_compare_shares_label_their_axes_and_say_when_they_come_from_a_sample():
    from auditor.render.svg import _middle, column_chart, share_bars

    histogram = column_chart(["0-9", "10-99"], {"train": [90, 10], "eval": [1, 9]}, x_label="tokens per example")
    assert "share of examples" in histogram and "tokens per example" in histogram
    assert "train 0-9: 90 (90.0%)" in histogram and "eval 10-99: 9 (90.0%)" in histogram
    # both 90% bars are drawn equally tall, though one split is ten times the other
    heights = [float(h) for h in re.findall(r'height="([\d.]+)" fill="#(?:0969da|bf8700)"><title>', histogram)]
    assert heights[0] == heights[3] and heights[1] == heights[2]
    bars = share_bars({"train": {"refund": 30, "billing": 70}, "eval": {"refund": 5, "billing": 5}})
    assert "train (100 rows)" in bars and "eval refund: 5 (50.0%)" in bars and "train billing: 70 (70.0%)" in bars
    assert bars.index(">billing<") < bars.index(">refund<")  # the largest train label first
    assert _middle("account_balance_inquiry_for_savings_12", 20) == "account_ba…avings_12"


def test_a_language_chart_says_its_figures_come_from_a_sample(tmp_path):
    report = enrich(real_report(tmp_path, hostile_train()))
    language = next(r for r in report["results"] if r["check"] == "language")
    language["metrics"]["train"] = {"sampled": True, "sample_size": 20000, "population": 250000,
                                    "prompt_languages": {"en": 19000, "de": 1000}}
    assert "estimated from a seeded sample of 20,000 of 250,000 rows" in render_html(report)


def test_side_by_side_views_highlight_the_differing_words(tmp_path):
    text = render_html(enrich(real_report(tmp_path, hostile_train())))
    assert text.count('<div class="group" data-sev=') == 2  # one near-duplicate cluster, one contradiction
    old, new = word_diff("How do I reset my password", "How can I reset my password")
    assert old == "How <del>do</del> I reset my password" and new == "How <ins>can</ins> I reset my password"
    assert word_diff("<b>", "<i>") == ("&lt;<del>b</del>&gt;", "&lt;<ins>i</ins>&gt;")
    assert "long long" in text and "more characters" in text  # the 20,000-character row is capped


def test_100000_findings_are_capped_and_fast(tmp_path):
    report = big_report(real_report(tmp_path, hostile_train()), 100_000)
    start = time.perf_counter()
    text = render_html(report)
    elapsed = time.perf_counter() - start
    section = text[text.index('data-check="near-duplicates"'):]
    assert section.count("<tr data-sev=") == MAX_ROWS
    assert "200 of 100,000 findings written here" in section
    assert len(text) < 2_000_000 and elapsed < 20
    assert PAYLOADS[3][:5] in text


def test_cluster_header_shows_the_similarity_range(tmp_path):
    report = enrich(real_report(tmp_path, hostile_train()))
    near = next(r for r in report["results"] if r["check"] == "near-duplicates")
    near["findings"][0]["data"]["similarity"] = [0.82, 0.97]
    assert "similarity 0.82–0.97" in render_html(report)


def test_the_tokens_chart_ends_at_the_last_bin_holding_an_example_and_says_estimated():
    from auditor.render import common

    report = {"checks": {"tokens": {"provides": ["token-histograms"]}},
              "results": [{"check": "tokens", "metrics": {
                  "exact": False, "train_tokens_histogram": {"bins": [0, 64, 128, 256], "counts": [2, 0, 5, 0]},
                  "eval_tokens_histogram": {"bins": [0, 64, 128, 256], "counts": [1, 1, 0, 0]}}}]}
    labels, series, unit = common.token_histograms(report)
    assert labels == ["0–64", "64–128", "128–256"] and series == {"train": [2, 0, 5], "eval": [1, 1, 0]}
    assert unit == "estimated tokens"
    assert common.token_histograms({"checks": {}, "results": []}) is None


def test_a_cluster_view_counts_every_row_and_shows_every_member_it_lists(tmp_path):
    report = enrich(real_report(tmp_path, hostile_train()))
    near = next(r for r in report["results"] if r["check"] == "near-duplicates")
    finding = near["findings"][0]
    finding["data"]["members"] = [{"line": n, "text": f"row {n} text"} for n in (3, 13, 21)]
    finding["data"]["line_count"] = 3
    view = render_html(report).split('data-check="near-duplicates"')[1].split('<div class="group"')[1]
    assert "· 3 rows" in view and view.count('<div class="col">') == 3 and "more not shown" not in view
    finding["data"]["line_count"] = 7  # a group may list fewer rows than it has (copies of one text)
    view = render_html(report).split('data-check="near-duplicates"')[1].split('<div class="group"')[1]
    assert "· 7 rows" in view and "4 more not shown" in view


def test_a_contradiction_shows_its_shared_prompt_above_the_answers(tmp_path):
    report = enrich(real_report(tmp_path, hostile_train()))
    contradiction = next(r for r in report["results"] if r["check"] == "contradictions")
    data = contradiction["findings"][0]["data"]
    data["members"] = [{"line": 5, "text": "spam"}, {"line": 7, "text": "ham"}]  # as the check writes them
    data["prompt"] = "Where is <my> parcel?"
    view = render_html(report).split('data-check="contradictions"')[1].split('<div class="group"')[1]
    assert '<b>shared prompt</b><div class="text">Where is &lt;my&gt; parcel?</div>' in view
    assert view.index("shared prompt") < view.index('<div class="cols">')


def test_long_rows_that_differ_late_are_shown_around_their_difference(tmp_path):
    report = enrich(real_report(tmp_path, hostile_train()))
    near = next(r for r in report["results"] if r["check"] == "near-duplicates")
    common = "the same long ticket text " * 400  # 10,400 characters, beyond the view's cap
    near["findings"][0]["data"]["members"] = [{"line": 3, "text": common + "refund the order please"},
                                              {"line": 13, "text": common + "cancel the order please"}]
    view = render_html(report).split('data-check="near-duplicates"')[1].split('<div class="group"')[1]
    assert "<del>refund</del>" in view and "<ins>cancel</ins>" in view
    assert "characters before" in view and "more characters" not in view
