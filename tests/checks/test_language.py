"""Tests of the `language` check."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import planted_problems, sample_context

from auditor import Settings, Severity, Status
from auditor.testing import make_context, run_check
from checks import _langid
from checks.language import Language

ROOT = Path(__file__).resolve().parents[2]
SYSTEM = "You are a helpful customer support assistant for an online shop."

EN_Q = ["My parcel has not arrived yet although the tracking page says it was delivered yesterday.",
        "I was charged twice for the same order last week, could you please refund one of the payments?",
        "The app crashes every time I try to upload a photo to my profile, what can I do about it?",
        "How do I change the delivery address of an order that has already been shipped to me?"]
EN_A = ["I am sorry to hear that. I have opened an investigation with the carrier and will update you soon.",
        "You are right, I can see the duplicate charge and I have refunded it to your card today.",
        "Please update the app to the latest version and try again; if it still fails, send us the logs.",
        "Once an order has shipped the address can only be changed by the carrier, here is how to ask them."]
DE_Q = "Mein Paket ist noch nicht angekommen, obwohl die Sendungsverfolgung sagt, dass es gestern zugestellt wurde."
DE_A = "Das tut mir leid. Ich habe eine Nachforschung beim Zusteller eingeleitet und melde mich bald bei Ihnen."
FR_Q = "Ma commande n'est toujours pas arrivée alors que le suivi indique qu'elle a été livrée hier matin."
FR_A = "Je suis désolé, j'ai ouvert une enquête auprès du transporteur et je reviens vers vous très vite."


def chat(user, answer, system=SYSTEM):
    messages = [{"role": "system", "content": system}] if system else []
    return {"messages": messages + [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]}


def english_rows(n):
    return [chat(f"{EN_Q[i % 4]} Order number {1000 + i}.", EN_A[(i + 1) % 4]) for i in range(n)]


def lines(result, code=None):
    return sorted(f.location.line for f in result.findings if code is None or f.code == code)


def test_clean_english_dataset_passes():
    result = run_check(Language, english_rows(12), languages=["en"])
    assert result.status is Status.PASS
    assert result.findings == []
    assert result.metrics["train"]["prompt_languages"] == {"en": 12}
    assert result.metrics["train"]["response_languages"] == {"en": 12}


def test_rows_outside_the_expected_set_are_findings_with_language_and_probability():
    rows = english_rows(6) + [chat(DE_Q, DE_A), chat(FR_Q, FR_A)]
    result = run_check(Language, rows, languages=["en"])
    assert lines(result, "LNG001") == [7, 8]
    assert lines(result, "LNG002") == []
    german = next(f for f in result.findings if f.location.line == 7)
    assert german.severity is Severity.WARNING
    assert re.fullmatch(r"Prompt in German \(de, 1\.00\) and response in German \(de, 1\.00\), expected en",
                        german.message), german.message
    assert german.data["prompt_lang"] == "de" and german.data["prompt_prob"] > 0.9
    assert result.excluded == frozenset()
    assert result.metrics["train"]["unexpected_rows"] == 2


def test_without_languages_only_the_distribution_is_reported():
    result = run_check(Language, english_rows(4) + [chat(DE_Q, DE_A)])
    assert result.findings == []
    assert result.metrics["train"]["prompt_languages"] == {"de": 1, "en": 4}


def test_severity_and_exclude_options():
    rows = english_rows(3) + [chat(DE_Q, DE_A)]
    result = run_check(Language, rows, languages=["en", "fr"], severity="error", exclude=True)
    assert [(f.location.line, f.severity) for f in result.findings] == [(4, Severity.ERROR)]
    assert result.status is Status.FAIL
    excluded_row = make_context(rows).rows("train")["row"][3]
    assert result.excluded == frozenset({excluded_row})


def test_answer_in_another_language_than_the_question_is_a_mismatch():
    rows = english_rows(4) + [chat(DE_Q, EN_A[0]), chat(EN_Q[0], FR_A)]
    result = run_check(Language, rows)
    assert lines(result, "LNG002") == [5, 6]
    first = next(f for f in result.findings if f.location.line == 5)
    assert first.severity is Severity.WARNING
    assert re.fullmatch(r"Asked in German \(de, \d\.\d\d\), answered in English \(en, \d\.\d\d\)", first.message)
    assert result.metrics["train"]["mismatched_rows"] == 2


def test_system_prompt_is_not_judged():
    rows = [chat(DE_Q, DE_A, system="You are a helpful assistant. Always be polite, concise and accurate.")]
    result = run_check(Language, rows)
    assert result.metrics["train"]["prompt_languages"] == {"de": 1}
    assert result.findings == []


@pytest.mark.parametrize("answer", [
    "Ok, thanks!",
    "def add(a, b):\n    return {'sum': a + b, 'items': [a, b]}  # x = y; z = f(x)",
    "12345 67890 2024-01-02 10:15:00 #A-77 $19.99 => [3, 4, 5]",
    '{"order_id": 12345, "refund_amount": 19.99, "approved": true, "ticket_reference_number": "A-77"}',
], ids=["short", "code", "numbers", "json-keys-only"])
def test_short_code_and_number_texts_are_undetermined_and_never_flagged(answer):
    rows = english_rows(3) + [chat(DE_Q, answer)]
    result = run_check(Language, rows, languages=["de"])
    # only the English rows are outside "de"; the undetermined answer makes no mismatch either
    assert lines(result) == [1, 2, 3]
    assert result.metrics["train"]["response_languages"]["undetermined"] == 1
    assert result.metrics["train"]["undetermined_rows"] == 1


def test_json_response_is_judged_on_its_values_not_its_keys():
    answer = json.dumps({"summary": "Der Kunde wartet seit zwei Wochen auf sein Paket und möchte eine Erstattung",
                         "details": {"next_steps": ["Nachforschung beim Zusteller einleiten",
                                                    "Kunden innerhalb von zwei Tagen informieren"]}},
                        ensure_ascii=False)
    result = run_check(Language, [chat(DE_Q, answer)])
    assert result.metrics["train"]["response_languages"] == {"de": 1}
    assert result.findings == []
    assert _langid.prose(answer).startswith("Der Kunde wartet")


def test_scripts_settle_the_language_without_langdetect():
    assert _langid.judge("注文した商品がまだ届いていません。確認していただけますか。", 1, 5, 300) == ("ja", 1.0)
    assert _langid.judge("我的订单还没有到，请帮我查一下物流信息，谢谢你们的帮助。", 1, 5, 300) == ("zh", 1.0)
    assert _langid.judge("주문한 상품이 아직 도착하지 않았습니다. 확인 부탁드립니다.", 1, 5, 300) == ("ko", 1.0)
    lang, _ = _langid.judge("Мой заказ до сих пор не пришёл, хотя трекинг показывает, что он доставлен.", 1, 5, 300)
    assert lang == "ru"


def test_fast_detector_gives_langdetects_answer():
    texts = EN_Q + EN_A + [DE_Q, DE_A, FR_Q, FR_A, "Ciao, vorrei sapere quando arriva il mio ordine, grazie mille"]
    for text in texts:
        for seed in (0, 7):
            detector = _langid.reference_detector(seed)
            detector.append(text)
            best = detector.get_probabilities()[0]
            lang, prob = _langid.detect_ids_top(text, seed)
            assert (lang, round(prob, 9)) == (best.lang, round(best.prob, 9))


def _varied_texts(n, seed=11):
    """Seeded texts: short, long (past langdetect's 10,000 characters), mixed scripts, marks, URLs."""
    import random

    rng = random.Random(seed)
    words = (" ".join(EN_Q + EN_A + [DE_Q, DE_A, FR_Q, FR_A])).split() + [
        "Xin", "chào", "Tiếng", "Việt", "cảm", "ơn", "Мой", "заказ", "пришёл", "посылка", "Київ", "مرحبا",
        "بالعالم", "شكرا", "नमस्ते", "दुनिया", "你好", "世界", "注文", "안녕하세요", "Γειά", "שלום", "NASA", "IBM",
        "https://example.com/a?b=c", "www.example.org", "jane.doe@example.com", "123", "4.5", "!!!", "  ",
        "\t", "\n", "e\u0301", "a\u0300", "o\u0323", "ǅ", "ﬁ", "İ", "ß", "ÆØÅ", "ʼ"]
    texts = []
    for _ in range(n):
        size = rng.choice([1, 2, 3, 5, 8, 15, 40, 90, 200])
        texts.append(" ".join(rng.choice(words) for _ in range(size)))
    return texts + ["a", "Hello", "THE QUICK BROWN FOX JUMPS", "x" * 10_500, "ab cd " * 2_000]


def _stock(text, seed, restrict=None):
    from langdetect.lang_detect_exception import LangDetectException

    detector = _langid.reference_detector(seed, restrict)
    detector.append(text)
    try:
        best = detector.get_probabilities()
    except LangDetectException:  # no features
        return None, 0.0, detector
    return (_langid._code(best[0].lang), best[0].prob, detector) if best else (None, 0.0, detector)


@pytest.mark.parametrize("seed", [0, 7])
def test_batched_detector_gives_langdetects_answer_on_varied_texts(seed):
    texts = _varied_texts(300)
    cyrillic = ("bg", "mk", "ru", "uk")
    answers = _langid.detect_many(texts, seed)
    restricted = _langid.detect_many(texts, seed, cyrillic)
    vocabulary = list(_langid.model().index)
    for text, answer, answer_restricted in zip(texts, answers, restricted):
        lang, prob, detector = _stock(text, seed)
        assert answer[0] == lang and abs(answer[1] - prob) <= 1e-9, (text[:80], answer, (lang, prob))
        # the same n-grams as langdetect's own extraction, in the same order
        detector.cleaning_text()
        assert [vocabulary[i] for i in _langid._ngram_ids(text)] == detector._extract_ngrams(), text[:80]
        lang, prob, _ = _stock(text, seed, cyrillic)
        assert answer_restricted[0] == lang and abs(answer_restricted[1] - prob) <= 1e-9, text[:80]
    assert sum(lang is None for lang, _ in answers) < 30  # most texts do have features


def test_answers_do_not_depend_on_the_batch_or_its_order():
    texts = _varied_texts(60, seed=3)
    together = _langid.detect_many(texts, 5)
    assert [_langid.detect_many([text], 5)[0] for text in texts] == together
    assert _langid.detect_many(texts[::-1], 5) == together[::-1]


def test_profile_matrix_is_cached_and_a_broken_or_unwritable_cache_is_ignored(tmp_path, monkeypatch):
    import numpy as np

    reference = _langid._Model(cache=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    built = _langid._Model()
    files = sorted((tmp_path / "cache" / "dataset-auditor").iterdir())
    assert [f.suffix for f in files] == [".npy", ".vocab"]
    cached = _langid._Model()
    assert isinstance(cached.matrix, np.memmap)
    for m in (built, cached):
        assert m.langs == reference.langs and m.index == reference.index
        assert np.array_equal(m.matrix, reference.matrix)
    files[0].write_bytes(files[0].read_bytes()[:1000])  # truncated: rebuilt and rewritten
    assert np.array_equal(_langid._Model().matrix, reference.matrix)
    assert np.array_equal(_langid._Model().matrix, reference.matrix)
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "file"))  # not a directory: no cache
    assert np.array_equal(_langid._Model().matrix, reference.matrix)


def test_prefix_is_cut_at_a_word_boundary():
    text = "word " * 100
    cut = _langid.prefix(text, 42)
    assert len(cut) <= 42 and cut.endswith("word")


def _output(result):
    return [f.to_dict() for f in result.findings], result.metrics, result.summary


MIXED = english_rows(10) + [chat(DE_Q, DE_A), chat(DE_Q, EN_A[1]), chat(FR_Q, FR_A),
                            chat(EN_Q[2], "Ciao, vorrei sapere quando arriva il mio ordine, grazie mille")]


def test_two_runs_give_the_same_output_also_in_a_fresh_process(tmp_path):
    def run():  # the same file path every time, so findings compare equal
        return _output(run_check(Language, ctx=make_context(MIXED, directory=tmp_path), languages=["en"]))

    first, second = run(), run()
    assert first == second
    assert lines_of(first) == [11, 12, 12, 13, 14, 14]  # 12 and 14 also answer in another language
    (tmp_path / "data.json").write_text(json.dumps(MIXED))
    script = (
        "import json\n"
        "from auditor.testing import make_context, run_check\n"
        "from checks.language import Language\n"
        f"rows = json.load(open({str(tmp_path / 'data.json')!r}))\n"
        f"r = run_check(Language, ctx=make_context(rows, directory={str(tmp_path)!r}), languages=['en'])\n"
        "print(json.dumps([[f.to_dict() for f in r.findings], r.metrics, r.summary]))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    assert json.loads(out.stdout) == json.loads(json.dumps(list(first)))


def lines_of(output):
    return [f["line"] for f in output[0]]


def test_parallel_detection_matches_in_process_detection(monkeypatch):
    import checks.language as module

    texts = [q + f" Reference {i}." for i, q in enumerate(EN_Q * 5)] + [DE_Q, FR_A]
    inline = module._judge_all(texts, 3, 20, 300, 0.9)
    monkeypatch.setattr(module, "POOL_THRESHOLD", 1)
    monkeypatch.setattr(module, "CHUNK", 7)
    assert module._judge_all(texts, 3, 20, 300, 0.9) == inline


def test_sampling_above_the_limit_is_reported_as_an_estimate(tmp_path):
    rows = english_rows(110) + [chat(DE_Q, DE_A)] * 10
    ctx = make_context(rows, settings=Settings(seed=5), directory=tmp_path)
    result = Language(Language.make_options({"sample": 50, "languages": ["en"]})).run(ctx)
    m = result.metrics["train"]
    assert (m["sampled"], m["sample_size"], m["population"]) == (True, 50, 120)
    assert sum(m["prompt_languages"].values()) == 50
    assert "estimated from a sample of 50 of 120 rows" in result.summary
    assert all(f.location.line > 110 for f in result.findings)  # only German rows flagged
    again = Language(Language.make_options({"sample": 50, "languages": ["en"]})).run(
        make_context(rows, settings=Settings(seed=5), directory=tmp_path))
    assert _output(again) == _output(result)


def test_per_row_results_are_a_shared_artefact():
    ctx = make_context(english_rows(2) + [chat(DE_Q, DE_A)])
    check = Language(Language.make_options({}))
    check.run(ctx)
    frame, info = ctx.shared(("language", "train", check.options_key(ctx)), lambda: None)
    assert frame.columns == ["row", "prompt_lang", "prompt_prob", "response_lang", "response_prob"]
    assert frame["prompt_lang"].to_list() == ["en", "en", "de"]
    assert info == {"sampled": False, "sample_size": 3, "population": 3}


def test_unknown_language_code_is_rejected():
    from auditor import ConfigError

    with pytest.raises(ConfigError, match="unknown language codes xx"):
        Language.make_options({"languages": ["xx"]})


def test_planted_non_english_rows_in_sample_data_are_found():
    result = Language(Language.make_options({"languages": ["en"]})).run(sample_context())
    # eval.jsonl is all English: line 37's summary alone reads as Italian to langdetect when its enum
    # values are counted ("data_privacy", "neutral"), which the second opinion on JSON targets settles
    assert [f.location.line for f in result.findings if f.split == "eval"] == []
    planted = planted_problems()["train.jsonl"]
    assert sorted({f.location.line for f in result.findings if f.split == 'train'}) == sorted(set(planted["non_english"]) | set(planted["language_mismatch"]))
    assert [f.location.line for f in result.findings if f.code == "LNG002"] == sorted(planted["language_mismatch"])


def test_answers_are_remembered_in_the_cache_so_an_edit_judges_only_new_texts(tmp_path, monkeypatch):
    from auditor.cache import open_cache
    from checks import language as module

    judged = []
    real = module._judge_all
    monkeypatch.setattr(module, "_judge_all", lambda texts, *a: judged.append(len(texts)) or real(texts, *a))
    rows = [{"messages": [{"role": "user", "content": f"Where is my parcel number {i}? It has been a week."},
                          {"role": "assistant", "content": f"Your parcel {i} left our warehouse yesterday."}]}
            for i in range(5)]

    def run(records):
        ctx = make_context(records, directory=tmp_path)
        ctx._cache = open_cache(tmp_path / "cache")
        return run_check(Language, ctx=ctx)

    first = run(rows)
    assert judged == [10]
    rows[2]["messages"][1]["content"] = ("Vielen Dank für Ihre Nachricht. Ihr Paket hat gestern unser Lager verlassen "
                                         "und wird in den nächsten Tagen bei Ihnen ankommen.")
    second = run(rows)
    assert judged == [10, 1]  # only the edited response is judged again
    assert [f.location.line for f in second.findings] == [3] and first.findings == []
