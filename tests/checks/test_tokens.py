"""tokens: exact counts with a local tokenizer and its chat template, estimates without, and the
trainer pre-flight (rows over max_length, rows with no trainable token)."""

import json
import math

import pytest

from auditor import ConfigError
from auditor import tokens as token_counting
from auditor.testing import make_context, run_check
from dataset_auditor_checks.tokens import Tokens

TEMPLATE = ("{% for m in messages %}"
            "{% if m['role'] not in ['system', 'user', 'assistant'] %}"
            "{{ raise_exception('unknown role ' + m['role']) }}{% endif %}"
            "<|{{ m['role'] }}|> {{ m['content'] }} {{ eos_token }} "
            "{% endfor %}{% if add_generation_prompt %}<|assistant|> {% endif %}")
WORDS = "what is the capital of france paris is it a city yes no please answer briefly tell me more about this".split()


def tiny_model(folder, template=TEMPLATE):
    """A BPE tokenizer trained in code on WORDS (each word becomes one token; whitespace splits), with a
    tokenizer_config.json holding a chat template; returns the folder."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["[UNK]", "</s>", "<|system|>", "<|user|>",
                                                                  "<|assistant|>"])
    tokenizer.train_from_iterator([" ".join(WORDS)] * 20, trainer)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(folder / "tokenizer.json"))
    config = {"eos_token": {"content": "</s>"}, "bos_token": "<s>"}
    if template:
        config["chat_template"] = template
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    return folder


def chat(user, answer, system=None):
    turns = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": user}, {"role": "assistant", "content": answer}]
    return {"messages": turns}


def words(n):
    return " ".join(WORDS[i % len(WORDS)] for i in range(n))


def test_chat_rows_are_counted_exactly_through_the_chat_template(tmp_path):
    model = tiny_model(tmp_path / "model")
    rows = [chat("what is the capital of france", "paris"), chat(words(10), words(3), system="answer briefly")]
    ctx = make_context(rows + ['{"broken'])
    counts = token_counting.token_counts(ctx, token_counting.load_tokenizer(str(model)))
    # row 0: "<|user|> what is the capital of france </s> " + "<|assistant|> " -> 1 + 6 + 1 + 1 = 9 before the
    # answer; the whole: "<|user|> ... </s> <|assistant|> paris </s>" -> 8 + 3 = 11
    assert counts.tolist() == [[9, 11], [4 + 12 + 1, 4 + 12 + 5], [-1, -1]]  # system turn: 4 tokens


def test_max_length_reports_truncated_rows_and_excludes_rows_with_no_trainable_token(tmp_path):
    model = tiny_model(tmp_path / "model")
    rows = [chat("what is the capital of france", "paris")] * 2 + [
        chat(words(20), "yes"),     # 1 + 20 + 1 + 1 = 23 before the answer, 25 in all: nothing within 16
        chat("tell me more", words(30)),  # 6 before the answer, 37 in all: truncated, 10 trainable
        {"messages": [{"role": "user", "content": "what"}, {"role": "tool", "content": "x"},
                      {"role": "assistant", "content": "no"}]}]
    result = run_check(Tokens, rows, tokenizer=str(model), max_length=16)
    found = [(f.location.line, f.code, f.data.get("tokens")) for f in result.findings]
    assert found == [(3, "TOK001", 25), (3, "TOK002", 25), (4, "TOK001", 37), (5, "TOK003", None)]
    assert result.excluded == {2, 4}
    assert result.findings[0].message == "25 tokens, over max_length 16: the trainer cuts the last 9"
    assert result.findings[1].message == "No trainable token within max_length 16: the answer starts at token 24"
    assert result.findings[3].message == "The chat template refuses this conversation: unknown role tool"
    assert result.metrics["exact"] is True and result.metrics["truncated_rows"] == 2
    train = result.metrics["train"]
    assert train["examples"] == 4 and train["total"] == {"p50": 25, "p95": 37, "max": 37}  # observed values (the higher of two)
    assert train["total_tokens"] == 11 + 11 + 25 + 37
    clean = run_check(Tokens, rows[:2], tokenizer=str(model), max_length=16)
    assert clean.findings == [] and clean.status.value == "pass" and not clean.excluded


def test_without_a_tokenizer_counts_are_estimates_and_say_so():
    rows = [{"prompt": "a" * 10, "completion": "b" * 7}, {"prompt": "c" * 400, "completion": "d"}]
    result = run_check(Tokens, rows, epochs=3, max_length=50)
    assert result.metrics["exact"] is False and result.metrics["tokenizer"].startswith("estimate")
    assert result.metrics["train"]["total_tokens"] == math.ceil(10 / 4) + math.ceil(7 / 4) + 100 + 1
    assert result.metrics["train"]["tokens_x_epochs"] == 3 * result.metrics["train"]["total_tokens"]
    assert [(f.location.line, f.code) for f in result.findings] == [(2, "TOK001"), (2, "TOK002")]
    assert result.findings[0].message.startswith("101 estimated tokens, over max_length 50")
    assert result.metrics["train_tokens_histogram"]["counts"][:3] == [1, 1, 0]


def test_a_plain_tokenizer_json_counts_prompt_and_completion_with_its_own_special_tokens(tmp_path):
    model = tiny_model(tmp_path / "model", template=None)
    rows = [{"prompt": "what is the capital of france", "completion": "paris"}]
    counts = token_counting.token_counts(make_context(rows), token_counting.load_tokenizer(str(model / "tokenizer.json")))
    assert counts.tolist() == [[6, 7]]
    # chat rows without a template: the prompt and response texts, as the normalizer joins them
    chats = token_counting.token_counts(make_context([chat("tell me more", "yes")]),
                                        token_counting.load_tokenizer(str(model)))
    assert chats.tolist() == [[3, 4]]


def test_a_hugging_face_cache_folder_reads_the_snapshot_its_main_ref_names(tmp_path):
    cache = tmp_path / "models--org--tiny"
    tiny_model(cache / "snapshots" / "aaa", template=None)
    tiny_model(cache / "snapshots" / "bbb")
    (cache / "refs").mkdir()
    (cache / "refs" / "main").write_text("aaa\n")
    assert token_counting.load_tokenizer(str(cache)).template is None
    (cache / "refs" / "main").write_text("bbb")
    assert token_counting.load_tokenizer(str(cache)).template is not None


def test_the_template_runs_sandboxed_and_with_a_fixed_date(tmp_path):
    model = tiny_model(tmp_path / "model", template="{{ strftime_now('%Y-%m-%d') }} {{ messages[0].content }}")
    tokenizer = token_counting.load_tokenizer(str(model))
    assert tokenizer.render([{"role": "user", "content": "hi"}], None, generation_prompt=False) == "2026-01-01 hi"
    escape = tiny_model(tmp_path / "bad", template="{{ messages.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(ValueError, match="unsafe|not safely|access"):
        token_counting.load_tokenizer(str(escape)).render([], None, generation_prompt=False)


def test_a_bad_tokenizer_is_one_line_exit_2_and_a_changed_one_is_audited_again(tmp_path, capsys, monkeypatch):
    from auditor.cli import main
    from auditor.testing import write_jsonl

    monkeypatch.chdir(tmp_path)
    write_jsonl(tmp_path / "train.jsonl", [chat("what is the capital of france", "paris")])
    for path, message in (("nowhere", "nowhere: tokenizer not found"), (".", ".: no tokenizer.json in this folder")):
        with pytest.raises(SystemExit) as exc:
            main(["audit", "train.jsonl", "--select", "tokens", "--tokenizer", path, "-q"])
        err = capsys.readouterr().err
        assert exc.value.code == 2 and message in err and err.count("\n") == 1
    (tmp_path / "broken.json").write_text("{}")
    with pytest.raises(SystemExit) as exc:
        main(["audit", "train.jsonl", "--select", "tokens", "--tokenizer", "broken.json", "-q"])
    assert exc.value.code == 2 and "broken.json: not a tokenizer.json" in capsys.readouterr().err

    model = tiny_model(tmp_path / "model")

    def total():
        with pytest.raises(SystemExit):
            main(["audit", "train.jsonl", "--select", "tokens", "--tokenizer", "model", "--max-length", "10",
                  "--report", "json", "--output", "-", "-q"])  # cached: the second run is served whole
        result = json.loads(capsys.readouterr().out)["results"][-1]
        return result["metrics"]["train"]["total_tokens"], [f["code"] for f in result["findings"]]

    assert total() == (11, ["TOK001"]) and total() == (11, ["TOK001"])
    tiny_model(model, template=TEMPLATE.replace("{{ eos_token }} ", ""))  # the template changed: so do the counts
    assert total() == (9, [])


def test_token_counts_kept_per_block_in_the_cache_are_those_counted_cold(tmp_path, capsys, monkeypatch):
    from auditor.cli import main
    from auditor.testing import write_jsonl

    monkeypatch.chdir(tmp_path)
    tiny_model(tmp_path / "model")
    rows = [chat(words(i % 7 + 1), words(i % 5 + 1)) for i in range(3000)]

    def metrics(*extra):
        with pytest.raises(SystemExit):
            main(["audit", "train.jsonl", "--select", "tokens", "--tokenizer", "model", "--report", "json",
                  "--output", "-", "-q", *extra])
        return json.loads(capsys.readouterr().out)["results"][-1]["metrics"]

    write_jsonl(tmp_path / "train.jsonl", rows)
    cold = metrics("--no-cache")
    assert metrics() == cold  # stored block by block
    write_jsonl(tmp_path / "train.jsonl", rows + [chat("yes", "no")])  # one block changes, the rest is served
    assert metrics()["train"]["total_tokens"] == cold["train"]["total_tokens"] + 6
    assert metrics("--no-cache")["train"] == metrics()["train"]
    with pytest.raises(ConfigError):
        token_counting.load_tokenizer(str(tmp_path / "missing"))


def test_the_opening_is_counted_within_the_whole_encoding_also_where_spaces_hold_no_token(tmp_path):
    model = tiny_model(tmp_path / "model", template="{% for m in messages %}<|{{ m['role'] }}|>   {{ m['content'] }} "
                                                    "{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}")
    tokenizer = token_counting.load_tokenizer(str(model))
    opening = "<|user|>   yes no <|assistant|>"
    whole = opening + "   paris "
    assert tokenizer.count_split([opening, "yes no"], [whole, "<|user|>   yes"]) == [(4, 5), (2, 2)]


def test_a_cached_report_depends_on_the_tokenizer_files_and_never_reads_the_weights_beside_them(tmp_path):
    model = tiny_model(tmp_path / "model")
    (model / "model.safetensors").write_bytes(b"\0" * 1024)
    files = Tokens(Tokens.make_options({"tokenizer": str(model)})).files_read()
    assert [f.rsplit("/", 1)[1] for f in files] == ["tokenizer.json", "tokenizer_config.json"]
    assert Tokens().files_read() == []


# OpenAI's cookbook ("How to count tokens with tiktoken"): these messages are 124 prompt tokens for gpt-4o and
# gpt-4o-mini (o200k_base) and 129 for gpt-4 and gpt-3.5-turbo (cl100k_base), as num_tokens_from_messages
# counts them and as the API reported them.
COOKBOOK = [
    {"role": "system", "content": "You are a helpful, pattern-following assistant that translates corporate "
                                  "jargon into plain English."},
    {"role": "system", "name": "example_user", "content": "New synergies will help drive top-line growth."},
    {"role": "system", "name": "example_assistant", "content": "Things working well together will increase revenue."},
    {"role": "system", "name": "example_user", "content": "Let's circle back when we have more bandwidth to touch base "
                                                          "on opportunities for increased leverage."},
    {"role": "system", "name": "example_assistant", "content": "Let's talk later when we're less busy about how to "
                                                               "do better."},
    {"role": "user", "content": "This late pivot means we don't have time to boil the ocean for the client "
                                "deliverable."},
]


@pytest.mark.parametrize("encoding, prompt_tokens", [("o200k_base", 124), ("cl100k_base", 129)])
def test_an_openai_encoding_counts_chat_examples_as_openai_does(encoding, prompt_tokens):
    pytest.importorskip("bpe_openai")
    tokenizer = token_counting.load_tokenizer(encoding)
    assert tokenizer.exact and tokenizer.name == encoding and tokenizer.count(["Hello, world!"]) == [4]
    answer = {"role": "assistant", "content": "Hello, world!"}
    rows = [{"messages": COOKBOOK + [answer]}]
    counts = token_counting.token_counts(make_context(rows), tokenizer)
    # the reply adds its 3 message tokens, "assistant" (1) and its 4; the prompt side is what the API reports
    assert counts.tolist() == [[prompt_tokens, prompt_tokens + 3 + 1 + 4]]
    plain = make_context([{"prompt": "Hello, world!", "completion": " Hello, world!"}])
    assert token_counting.token_counts(plain, tokenizer).tolist() == [[4, 4 + 4]]
    result = run_check(Tokens, rows, tokenizer=encoding, max_length=prompt_tokens)
    assert [(f.location.line, f.code) for f in result.findings] == [(1, "TOK001"), (1, "TOK002")]
    assert result.excluded == {0} and result.metrics["tokenizer"] == encoding


def test_a_text_too_long_for_one_call_is_counted_in_pieces_that_sum_to_the_whole(monkeypatch):
    pytest.importorskip("bpe_openai")
    encoding = token_counting.load_tokenizer("o200k_base").encoding
    text = ("Ünïcode words, numbers 12345 and\n\n  indented  code(x) = y;\tend. " * 40) + "tail"
    whole = encoding.count(text)
    monkeypatch.setattr(token_counting, "_OPENAI_PIECE", 37)  # cut it into ~70 pieces
    assert token_counting._openai_count(encoding, text) == whole


def test_a_lone_surrogate_is_counted_as_the_replacement_character_openai_receives():
    pytest.importorskip("bpe_openai")
    tokenizer = token_counting.load_tokenizer("o200k_base")
    assert tokenizer.count(["caf\ud800 au lait"]) == tokenizer.count(["caf\ufffd au lait"])


def test_an_openai_encoding_without_its_extra_is_a_config_error(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "bpe_openai", None)
    with pytest.raises(ConfigError, match=r"pip install 'dataset-auditor\[openai-tokens\]'"):
        token_counting.load_tokenizer("o200k_base")
    assert token_counting.hosted_tokenizer("") is token_counting.ESTIMATE
