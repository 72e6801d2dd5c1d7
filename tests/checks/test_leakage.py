import json
import random
from pathlib import Path

import pytest
from conftest import planted_problems, sample_context

from auditor import ConfigError, Severity, Status
from auditor.testing import make_context, run_check, write_jsonl
from dataset_auditor_checks._windows import window_hashes
from dataset_auditor_checks.leakage import Leakage

ROOT = Path(__file__).resolve().parents[2]
SYSTEM = ("You are a careful support assistant for a small online shop and you always answer politely "
          "in two short sentences")  # 20 words


def _words(rng, k):
    syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi", "pe", "su", "do", "fa", "gu", "hi", "be", "ko",
                 "ma", "ni", "po", "ri"]
    return " ".join("".join(rng.choice(syllables) for _ in range(rng.randint(3, 5))) for _ in range(k))


def _texts(n, seed=7, k=40):
    rng = random.Random(seed)
    return [_words(rng, k) for _ in range(n)]


def _chat(user, answer="ok", system=SYSTEM):
    messages = [{"role": "system", "content": system}] if system else []
    return {"messages": messages + [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]}


def _pc(prompt, completion="ok"):
    return {"prompt": prompt, "completion": completion}


def _reported(result):
    return {f.location.line: f for f in result.findings}


def _line_of(path):
    return int(path) if isinstance(path, str) else path


# -- sample_data oracle --------------------------------------------------------------------------------

def test_sample_data_planted_leaks_are_found_exactly_with_their_detector():
    ctx = sample_context()
    result = Leakage().run(ctx)
    evals = next(f for f in ctx.files if f.split == "eval")
    oracle = planted_problems()["eval.jsonl"]
    planted = {}
    for kind, detector in (("leak_exact", "exact"), ("leak_near", "near"), ("leak_ngram", "ngram")):
        for line, train_lines in oracle[kind].items():
            planted[int(line)] = (detector, train_lines)
    found = _reported(result)
    assert set(found) == set(planted)
    for line, (detector, train_lines) in planted.items():
        f = found[line]
        assert detector in f.data["detectors"], (line, f.data["detectors"])
        assert f.data["train_lines"] == train_lines
        assert [loc.line for loc in f.related] == train_lines
        assert f.code == "LEAK001" and f.severity is Severity.ERROR
    for line in oracle["leak_ngram"]:
        assert "near" not in found[int(line)].data["detectors"]
    for line in oracle["leak_exact"]:
        assert found[int(line)].data["similarity"] == 1.0
    assert result.status is Status.FAIL
    per_file = result.metrics["per_file"][evals.path]
    assert per_file["leaked"] == len(planted) and per_file["rows"] == 72
    assert per_file["by_detector"]["ngram"] >= 1 and per_file["by_detector"]["exact"] == 2
    assert result.excluded == {evals.first_row + line - 1 for line in planted}


# -- clean data ----------------------------------------------------------------------------------------

def test_disjoint_eval_passes_without_findings():
    texts = _texts(60)
    result = run_check(Leakage, [_chat(t) for t in texts[:40]], [_chat(t) for t in texts[40:]])
    assert result.findings == [] and result.status is Status.PASS and not result.excluded
    assert result.metrics["per_file"][next(iter(result.metrics["per_file"]))]["leaked"] == 0


def test_requires_an_eval_file():
    assert Leakage.requires == frozenset({"eval"})


# -- each detector alone --------------------------------------------------------------------------------

def test_exact_prompt_with_another_response_is_exact_but_not_exact_pair():
    texts = _texts(30)
    train = [_pc(t, f"answer {i}") for i, t in enumerate(texts[:20])]
    evals = [_pc(t) for t in texts[20:]] + [_pc(texts[5].upper() + "  ", "different"), _pc(texts[7], "answer 7")]
    result = run_check(Leakage, train, evals, detectors=["exact", "exact-pair"])
    found = _reported(result)
    assert set(found) == {11, 12}
    assert found[11].data["detectors"] == ["exact"] and found[11].data["train_lines"] == [6]
    assert found[12].data["detectors"] == ["exact", "exact-pair"] and found[12].data["train_lines"] == [8]


def test_near_duplicate_alone():
    texts = _texts(30, k=60)
    edited = texts[3].split()
    edited[10] = "zzzword"
    train = [_pc(t) for t in texts[:20]]
    evals = [_pc(t) for t in texts[20:]] + [_pc(" ".join(edited))]
    result = run_check(Leakage, train, evals, detectors=["near"])
    found = _reported(result)
    assert set(found) == {11}
    assert found[11].data["detectors"] == ["near"] and found[11].data["train_lines"] == [4]
    assert 0.8 <= found[11].data["similarity"] < 1.0
    strict = run_check(Leakage, train, evals, detectors=["near"], threshold=1.0)
    assert strict.findings == []


def test_ngram_leak_is_a_row_mostly_covered_by_train_windows():
    texts = _texts(40, k=60)
    quoted = " ".join(texts[2].split()[5:55])  # 50 words of train line 3, verbatim
    train = [_pc(t) for t in texts[:20]]
    evals = [_pc(t) for t in texts[20:30]] + [_pc(" ".join(texts[35].split()[:6]) + " " + quoted)]
    result = run_check(Leakage, train, evals)
    found = _reported(result)
    assert set(found) == {11}
    leak = found[11]
    assert leak.code == "LEAK001" and leak.data["detectors"] == ["ngram"] and leak.data["train_lines"] == [3]
    assert leak.data["similarity"] == round(50 / 56, 4)  # the share of its words in shared windows
    assert leak.message == "Leaks from train.jsonl line 3 (ngram; 89% of its words in 13-word phrases of train)"
    # below the coverage asked for it is no leak; it aligns with the train row word by word: a template
    strict = run_check(Leakage, train, evals, min_coverage=0.95)
    assert [(f.code, f.location.line, f.severity) for f in strict.findings] == [("LEAK004", 11, Severity.WARNING)]
    assert strict.metrics["leaked_rows"] == 0 and not strict.excluded and strict.status is Status.WARN
    assert run_check(Leakage, train, evals, ngram=51).findings == []


def test_one_shared_phrase_is_a_note_not_a_leak():
    # two different problems that share one 15-word phrase (GSM8K test line 582 and train line 407)
    train = [_pc("Joseph and his friends watched two movies in his house. The first movie is 1 hour and 30 "
                 "minutes long while the second movie is 30 minutes longer than the first. Before the movies, "
                 "they spent 10 minutes making popcorn and twice as long making fries. How long, in hours, did "
                 "it take Joseph and his friends to cook and watch the movies?")] + [_pc(t) for t in _texts(20)]
    evals = [_pc("Max plans to watch two movies this weekend. The first movie is 1 hour and 30 minutes long "
                 "while the second movie is 2 hours and 5 minutes long. How many minutes will it take Max to "
                 "watch the two movies?")] + [_pc(t) for t in _texts(5, seed=9)]
    result = run_check(Leakage, train, evals)
    assert result.status is Status.PASS and not result.excluded and result.metrics["leaked_rows"] == 0
    [note] = result.findings
    assert (note.code, note.severity, note.location.line) == ("LEAK005", Severity.INFO, 1)
    assert note.data["rows"] == [{"line": 1, "path": note.data["rows"][0]["path"], "train_line": 1,
                                  "shared_words": 15, "words": 41, "coverage": round(15 / 41, 4)}]
    assert note.message == ("1 eval row shares a phrase with train but is no leak (under 80% of its words): "
                            "line 1 shares 15 of its 41 words with train.jsonl line 1")
    assert result.metrics["shared_phrase_rows"] == 1


def test_same_template_with_other_names_and_numbers_is_a_warning_not_a_leak():
    # GSM8K test lines 603 and 633 against train lines 1315 and 21
    train = [_pc("A train travels 270 miles in 3 hours. At the same rate, how many additional hours would it "
                 "take to travel an additional 180 miles?"),
             _pc("Bella bought stamps at the post office. Some of the stamps had a snowflake design, some had a "
                 "truck design, and some had a rose design. Bella bought 11 snowflake stamps. She bought 9 more "
                 "truck stamps than snowflake stamps, and 13 fewer rose stamps than truck stamps. How many stamps "
                 "did Bella buy in all?")] + [_pc(t) for t in _texts(20)]
    evals = [_pc("A plane travels 1200 miles in 3 hours. At the same rate, how many additional hours would it "
                 "take to travel an additional 2000 miles?"),
             _pc("Max bought stamps at the post office. Some of the stamps had a snowflake design, some had a "
                 "truck design, and some had a rose design. Max bought 16 snowflake stamps. He bought 3 more "
                 "truck stamps than snowflake stamps, and 9 fewer rose stamps than truck stamps. How many stamps "
                 "did Max buy in all?")] + [_pc(t) for t in _texts(5, seed=9)]
    result = run_check(Leakage, train, evals)
    found = [(f.code, f.severity, f.location.line, [r.line for r in f.related]) for f in result.findings]
    assert found == [("LEAK004", Severity.WARNING, 1, [1]), ("LEAK004", Severity.WARNING, 2, [2])]
    assert result.findings[0].message.startswith("Same template as train.jsonl line 1, other names or numbers")
    assert result.findings[0].data["alignment"] >= 0.9
    assert not result.excluded and result.metrics["leaked_rows"] == 0 and result.metrics["template_rows"] == 2
    assert run_check(Leakage, train, evals, template_similarity=1.0).findings[0].code == "LEAK005"


def test_leaked_input_with_a_conflicting_label_has_its_own_code():
    filler = [{"text": t, "label": "other"} for t in _texts(20, k=8)]
    train = [{"text": "turn up your volume", "label": "whisper_mode"},
             {"text": "what is my balance", "label": "balance"}] + filler
    evals = [{"text": "Turn up your volume", "label": "change_volume"},
             {"text": "what is my balance", "label": "balance"}] + [{"text": t, "label": "x"} for t in _texts(4, seed=3, k=8)]
    result = run_check(Leakage, train, evals)
    found = {f.location.line: f for f in result.findings}
    assert sorted(found) == [1, 2]
    conflict = found[1]
    assert conflict.code == "LEAK003" and conflict.severity is Severity.ERROR
    assert conflict.message == ("Leaks from train.jsonl line 1 with a conflicting label ('change_volume' here, "
                                "'whisper_mode' there; exact, near, ngram; similarity 1.00)")
    assert conflict.data["conflict"] == {"eval": "change_volume", "train": ["whisper_mode"]}
    assert found[2].code == "LEAK001" and "exact-pair" in found[2].data["detectors"]
    assert result.metrics["leaked_rows"] == 2 and result.metrics["conflicting_rows"] == 1
    assert result.excluded == {22, 23}


def test_free_text_answer_in_other_words_is_no_conflict():
    texts = _texts(30)
    train = [_pc(texts[0], "The answer is 7 apples.")] + [_pc(t, "fine") for t in texts[1:20]]
    evals = [_pc(texts[0], "Seven apples.")] + [_pc(t) for t in texts[20:25]]
    [leak] = run_check(Leakage, train, evals).findings
    assert leak.code == "LEAK001" and "conflict" not in leak.data


def test_ngram_ignores_punctuation_and_case():
    texts = _texts(30, k=30)
    words = texts[4].split()
    shouted = ", ".join(w.upper() for w in words) + "!"
    result = run_check(Leakage, [_pc(t) for t in texts[:20]], [_pc(shouted), _pc(texts[25])],
                       detectors=["ngram"])
    assert [f.data["train_lines"] for f in result.findings] == [[5]]


# -- boilerplate -----------------------------------------------------------------------------------------

def test_shared_system_prompt_does_not_leak_every_row():
    texts = _texts(60, k=30)
    result = run_check(Leakage, [_chat(t) for t in texts[:40]], [_chat(t) for t in texts[40:]])
    assert result.findings == []
    # matching the system prompt too: its windows are in every train row, so they are boilerplate
    assert run_check(Leakage, [_chat(t) for t in texts[:40]], [_chat(t) for t in texts[40:]],
                     include_system=True).findings == []


def test_disclaimer_pasted_into_every_train_row_is_ignored():
    disclaimer = ("this message and any attachments are confidential and intended solely for the named "
                  "recipient please delete it if you received it in error")  # 23 words
    texts = _texts(60, k=30)
    train = [_pc(t + " " + disclaimer) for t in texts[:40]]
    evals = [_pc(texts[40] + " " + disclaimer)] + [_pc(t) for t in texts[41:]]
    assert run_check(Leakage, train, evals).findings == []
    # without the boilerplate rule the disclaimer is a phrase the eval row shares with every train row
    loose = run_check(Leakage, train, evals, max_window_share=1.0, detectors=["ngram"])
    assert [(f.code, f.location.line) for f in loose.findings] == [("LEAK005", 1)]
    assert loose.findings[0].data["rows"][0]["shared_words"] == 23
    # a row that is the disclaimer and little else is substantially in train, from all 40 rows
    short = run_check(Leakage, train, [_pc("Note: " + disclaimer)], max_window_share=1.0, detectors=["ngram"])
    assert [(f.code, f.data["train_matches"], len(f.related)) for f in short.findings] == [("LEAK001", 40, 10)]
    assert short.findings[0].data["train_lines"] == list(range(1, 11))


def test_small_train_sets_keep_real_leaks():
    # one train row of five is 20% of train, far above max_window_share, but below boilerplate_min_rows
    texts = _texts(8, k=30)
    result = run_check(Leakage, [_pc(t) for t in texts[:5]], [_pc(texts[6][:20] + " " + texts[1])], detectors=["ngram"])
    assert [f.data["train_lines"] for f in result.findings] == [[2]]


# -- short rows ------------------------------------------------------------------------------------------

def test_short_rows_match_only_whole_text():
    texts = _texts(30, k=30)
    train = [_pc(t) for t in texts[:20]] + [_pc("Reset my password"), _pc("how do I reset my password please")]
    evals = [_pc("reset my  PASSWORD?"), _pc("reset my"), _pc("password reset my")] + [_pc(t) for t in texts[20:]]
    result = run_check(Leakage, train, evals, detectors=["ngram"])
    assert [(f.location.line, f.data["train_lines"]) for f in result.findings] == [(1, [21])]


def test_window_hashes_short_and_long_rows():
    import polars as pl

    windows = window_hashes(pl.Series(["a b c d e", "a b c", "", "c d e", "x a b c", None]), 3)
    assert windows.dtype == pl.List(pl.UInt64) and windows.name == "windows"
    hashes = windows.to_list()
    assert [len(h) for h in hashes] == [3, 1, 0, 1, 2, 0]  # one list per text, empty without words
    assert hashes[1][0] == hashes[0][0]  # whole "a b c" is the first window of "a b c d e"
    assert hashes[3][0] == hashes[0][2]
    assert hashes[4][1] == hashes[0][0]
    short = window_hashes(pl.Series(["a b", "a b c", "a b"]), 3).to_list()
    assert [len(h) for h in short] == [1, 1, 1]
    assert short[0] == short[2] and short[0] != short[1]
    assert window_hashes(pl.Series([], dtype=pl.String), 3).dtype == pl.List(pl.UInt64)


def test_windows_are_over_the_word_runs_whatever_separates_them():
    import polars as pl

    messy = ["  a, b!!c  d\te\n f  ", "!!! ... ?", "café  naïve—東京 x_y 42", "one\u00a0two three", " lone ", None]
    plain = ["a b c d e f", "", "café naïve 東京 x_y 42", "one two three", "lone", None]
    assert window_hashes(pl.Series(messy), 3).to_list() == window_hashes(pl.Series(plain), 3).to_list()
    assert [len(w) for w in window_hashes(pl.Series(messy), 3).to_list()] == [4, 0, 3, 1, 1, 0]


def test_cached_windows_are_rebuilt_only_for_the_edited_block(tmp_path, capsys, monkeypatch):
    import auditor.input.blocks as blocks_module
    import dataset_auditor_checks._windows as leakage_module
    from auditor.cli import main

    # blocks of 2..40 lines, so the 120-line train file has several
    monkeypatch.setattr(blocks_module, "BLOCK_MIN", 2)
    monkeypatch.setattr(blocks_module, "BLOCK_MAX", 40)
    monkeypatch.setattr(blocks_module, "BLOCK_SPREAD", 4)
    built = []
    real = leakage_module._flat_windows  # every hashing of windows goes through it
    monkeypatch.setattr(leakage_module, "_flat_windows", lambda texts, n: built.append(len(texts)) or real(texts, n))
    texts = _texts(150)
    train = [_pc(t) for t in texts[:120]]
    pasted = " ".join(texts[130].split()[:4] + texts[60].split()[:36])  # 36 of its 40 words from train line 61
    evals = [_pc(t) for t in texts[125:140]] + [_pc(texts[3]), _pc(pasted), "not json"]
    paths = [str(p) for p in (write_jsonl(tmp_path / "train.jsonl", train), write_jsonl(tmp_path / "eval.jsonl", evals))]

    def audit(*flags):
        built.clear()
        with pytest.raises(SystemExit):
            main(["audit", paths[0], "--eval", paths[1], "--select", "leakage", "-o", "leakage.detectors=ngram",
                  "--report", "json", "--output", "-", "-q", *flags])
        report = json.loads(capsys.readouterr().out)
        leakage = next(r for r in report["results"] if r["check"] == "leakage")
        return report, sorted((f["line"], f["data"]["train_lines"]) for f in leakage["findings"])

    cold, found = audit("--no-cache")
    assert found == [(16, [4]), (17, [61])]
    cache = ["--cache-dir", str(tmp_path / "cache")]
    # cold cache: each file in one run, and the 17 valid eval rows hashed for the lookup (every run)
    assert audit(*cache) == (cold, found) and sorted(built) == [17, 18, 120]
    assert audit(*cache) == (cold, found) and built == []
    lines = (tmp_path / "train.jsonl").read_text().splitlines(keepends=True)
    lines[89] = json.dumps(_pc(" ".join(texts[134].split()[:36] + texts[145].split()))) + "\n"  # eval line 10
    (tmp_path / "train.jsonl").write_text("".join(lines))
    edited, found = audit(*cache)
    assert found == [(10, [90]), (16, [4]), (17, [61])]
    assert built[0] == 17 and 1 <= len(built[1:]) <= 2 and sum(built[1:]) <= 40  # the edited block, not the file
    assert edited == audit("--no-cache")[0]

    # an edited eval row: the train windows come from the cache (but those of the block edited above,
    # which that run hashed for its lookup alone), and the edited eval block is hashed again
    lines = (tmp_path / "eval.jsonl").read_text().splitlines(keepends=True)
    lines[0] = json.dumps(_pc(" ".join(texts[20].split()))) + "\n"  # now train line 21, whole
    (tmp_path / "eval.jsonl").write_text("".join(lines))
    edited, found = audit(*cache)
    assert found == [(1, [21]), (10, [90]), (16, [4]), (17, [61])]
    assert built[0] == 17 and 120 not in built and sum(built[1:]) <= 40 + 18
    assert edited == audit("--no-cache")[0]


# -- several eval files ------------------------------------------------------------------------------------

def test_two_eval_files_are_checked_against_train_and_each_other(tmp_path):
    texts = _texts(80)
    train = [_pc(t) for t in texts[:40]]
    first = [_pc(t) for t in texts[40:55]] + [_pc(texts[2])]
    second = [_pc(t) for t in texts[60:70]] + [_pc(texts[41]), _pc(texts[10])]
    ctx = make_context(train, directory=tmp_path, eval_sets={"eval.jsonl": first, "test.jsonl": second})
    result = run_check(Leakage, ctx=ctx)
    found = sorted((Path(f.location.path).name, f.location.line, f.code, [(Path(r.path).name, r.line)
                    for r in f.related]) for f in result.findings)
    assert found == [("eval.jsonl", 16, "LEAK001", [("train.jsonl", 3)]),
                     ("test.jsonl", 11, "LEAK002", [("eval.jsonl", 2)]),
                     ("test.jsonl", 12, "LEAK001", [("train.jsonl", 11)])]
    per_file = {Path(k).name: v for k, v in result.metrics["per_file"].items()}
    assert per_file["eval.jsonl"]["leaked"] == 1 and per_file["eval.jsonl"]["rows"] == 16
    assert per_file["test.jsonl"]["leaked"] == 2 and per_file["test.jsonl"]["rows"] == 12
    cross = next(f for f in result.findings if f.code == "LEAK002")
    assert cross.message.startswith("Also in eval.jsonl line 2 (exact")
    assert cross.data["source"].endswith("eval.jsonl")


# -- rate, severity, exclusion -----------------------------------------------------------------------------

def test_rate_at_or_below_max_is_a_warning():
    texts = _texts(60)
    train = [_pc(t) for t in texts[:40]]
    evals = [_pc(t) for t in texts[40:59]] + [_pc(texts[0])]  # 1 of 20 = 5%
    failing = run_check(Leakage, train, evals)
    assert failing.status is Status.FAIL and failing.findings[0].severity is Severity.ERROR
    warned = run_check(Leakage, train, evals, max_leakage_rate=0.05)
    assert warned.status is Status.WARN and warned.findings[0].severity is Severity.WARNING
    assert warned.metrics["per_file"][warned.findings[0].location.path]["rate"] == 0.05
    message = failing.findings[0].message
    assert message == "Leaks from train.jsonl line 1 (exact, exact-pair, near, ngram; similarity 1.00)"
    members = failing.findings[0].data["members"]
    assert [m["line"] for m in members] == [20, 1]
    assert members[0]["text"] == members[1]["text"] == texts[0][:299] + "…"  # cut to 300 characters


@pytest.mark.parametrize("exclude, expected", [("eval", {59}), ("train", {0, 1}), ("both", {0, 1, 59})],
                         ids=["eval", "train", "both"])
def test_exclude_option(exclude, expected):
    texts = _texts(60)
    train = [_pc(texts[0]), _pc(texts[0])] + [_pc(t) for t in texts[2:40]]
    evals = [_pc(t) for t in texts[40:59]] + [_pc(texts[0])]
    result = run_check(Leakage, train, evals, exclude=exclude)
    assert result.excluded == frozenset(expected)  # train rows 0, 1; eval rows start at row 40
    assert result.findings[0].data["train_matches"] == 2


def test_options_are_validated():
    with pytest.raises(ConfigError):
        Leakage.make_options({"detectors": "exact,fuzzy"})
    with pytest.raises(ConfigError):
        Leakage.make_options({"exclude": "neither"})
    with pytest.raises(ConfigError):
        Leakage.make_options({"ngram": 0})


def test_option_bounds():
    for bad in ({"ngram": 10**9}, {"ngram": 65}, {"min_coverage": 0}, {"template_similarity": 1.5}):
        with pytest.raises(ConfigError):
            Leakage.make_options(bad)
    from dataset_auditor_checks.near_duplicates import NearDuplicates

    with pytest.raises(ConfigError, match="must be int"):
        NearDuplicates.make_options({"num_perm": 100.7})
    with pytest.raises(ConfigError):
        NearDuplicates.make_options({"threshold": float("nan")})
    assert NearDuplicates.make_options({"num_perm": 128.0}).num_perm == 128
