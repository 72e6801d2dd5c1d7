"""Artefacts of the audit context live until their last declared user has run, never longer."""

from __future__ import annotations

import json

from conftest import chat, distinct_chats

from auditor import Check
from auditor.config import AuditConfig
from auditor.engine import audit
from auditor.registry import Registry
from auditor.testing import make_context, write_jsonl

BUILDS: list[str] = []  # what each reader did: built the keys, or found them kept


class _Reader(Check):
    """Reads the text keys of `spec`."""

    spec = "input"
    uses: frozenset | None = frozenset({"text-keys:input"})

    def artefacts(self):
        return self.uses

    def run(self, ctx):
        before = len(ctx._shared)
        ctx.text_keys(self.spec)
        BUILDS.append(f"{self.id}:{'built' if len(ctx._shared) > before else 'reused'}")
        return self.result([], summary="read")


class First(_Reader):
    id, code = "first-reader", "FRS001"


class Declared(_Reader):
    id, code = "second-reader", "SRS001"


class Undeclared(_Reader):
    id, code = "third-reader", "TRS001"
    uses = None


def test_release_forgets_only_the_families_no_later_check_declares():
    ctx = make_context(distinct_chats(6))
    ctx.text_keys("input")
    ctx.text_keys("system")
    exact = ctx.shared(("exact-groups", 1), lambda: "groups")
    ctx.shared("label_task", lambda: "kept")  # a name, not an artefact family: never forgotten
    ctx.release(frozenset({"text-keys:input", "exact-groups"}))
    families = sorted(key[1] for key in ctx._shared if isinstance(key, tuple) and key[0] == "per-file")
    assert any(b"input" in f for f in families) and not any(b"system" in f for f in families)
    assert ctx.shared(("exact-groups", 1), lambda: "rebuilt") is exact and "label_task" in ctx._shared
    ctx.release(frozenset({"text-keys"}))  # a bare name keeps every selection of it
    assert any(isinstance(k, tuple) and b"text-keys" in k[1] for k in ctx._shared if k[0] == "per-file")
    ctx.release(frozenset())
    assert [k for k in ctx._shared if isinstance(k, tuple)] == []


def test_an_artefact_is_kept_for_a_later_user_and_for_a_check_that_declares_nothing(tmp_path):
    path = write_jsonl(tmp_path / "train.jsonl", distinct_chats(8))

    def run(*checks):
        BUILDS.clear()
        audit(AuditConfig(train=(str(path),), select=tuple(c.id for c in checks)),
              registry=Registry.from_classes(list(checks)))
        return list(BUILDS)

    # checks run in id order: first-reader, second-reader, third-reader
    assert run(First, Declared) == ["first-reader:built", "second-reader:reused"]
    assert run(First, Undeclared) == ["first-reader:built", "third-reader:reused"]


def test_an_artefact_no_later_check_declares_is_freed_and_rebuilt_if_asked_again(tmp_path):
    path = write_jsonl(tmp_path / "train.jsonl", distinct_chats(8))

    class Unrelated(_Reader):  # runs second, declares other artefacts
        id, code = "second-reader", "SRS001"
        uses = frozenset({"text-keys:system"})
        spec = "system"

    class Late(_Reader):  # runs third and reads first-reader's keys without declaring them
        id, code = "third-reader", "TRS001"
        uses = frozenset()

    BUILDS.clear()
    audit(AuditConfig(train=(str(path),), select=("first-reader", "second-reader", "third-reader")),
          registry=Registry.from_classes([First, Unrelated, Late]))
    assert BUILDS == ["first-reader:built", "second-reader:built", "third-reader:built"]  # rebuilt, same result


def test_checks_sharing_artefacts_run_one_after_another_and_unknown_needs_keep_the_order():
    from auditor.engine import run_order

    near = frozenset({"text:input", "lsh-band-keys:input"})
    exact = frozenset({"text:input+response", "exact-groups"})
    dups = frozenset({"text:input+response", "exact-groups", "lsh-band-keys:input+response"})
    leaks = frozenset({"text:input", "lsh-band-keys:input", "ngram-windows:input"})
    assert run_order([near, frozenset(), exact, leaks, dups]) == [0, 3, 1, 2, 4]  # ties: the registry order
    assert run_order([near, None, exact, leaks]) == [0, 1, 2, 3]


def test_bandings_declared_for_one_text_come_from_one_minhash_pass(tmp_path, monkeypatch):
    import orjson

    from auditor.similarity import lsh, minhash

    train = distinct_chats(40)
    long = " ".join(f"word{i}" for i in range(30))
    train[3]["messages"][1]["content"] = long
    train.append(chat(long + " please", json.dumps({"category": "refund", "id": 3})))  # near, answered otherwise
    evals = distinct_chats(5, start=38) + distinct_chats(5, start=500)  # two rows leak from train
    paths = (str(write_jsonl(tmp_path / "train.jsonl", train)), str(write_jsonl(tmp_path / "eval.jsonl", evals)))
    signed: list[int] = []  # texts shingled per MinHash pass
    real = minhash.shingle_hashes

    def counting(texts, **kwargs):
        signed.append(len(texts))
        return real(texts, **kwargs)

    monkeypatch.setattr(minhash, "shingle_hashes", counting)

    def report(*select):
        signed.clear()
        result = audit(AuditConfig(train=paths[:1], eval=paths[1:], select=select))
        return {r["check"]: r for r in orjson.loads(orjson.dumps(result))["results"]}, sum(signed)

    both, together = report("contradictions", "leakage")
    alone = {check: report(check) for check in ("contradictions", "leakage")}
    # the distinct user sides of both files, signed once for both checks' bandings
    assert together == alone["contradictions"][1] == alone["leakage"][1] == 51
    for check in ("contradictions", "leakage"):
        assert both[check]["findings"] == alone[check][0][check]["findings"]
    assert [(f["line"], f["related"][0]["line"]) for f in both["leakage"]["findings"]] == [(1, 39), (2, 40)]
    assert [sorted(r["line"] for r in [f, *f["related"]]) for f in both["contradictions"]["findings"]] == [[4, 41]]


def test_the_user_side_and_its_join_with_the_response_come_from_one_pass(tmp_path, monkeypatch):
    # contradictions bands the user side, near-duplicates the user side joined to the response: one pass
    # signs the user side's words for both, and each check finds what it finds alone
    import orjson

    from auditor.similarity import lsh, minhash

    train = distinct_chats(40)
    long = " ".join(f"word{i}" for i in range(30))
    train[3]["messages"][1]["content"] = long
    train.append(chat(long + " please", json.dumps({"category": "refund", "id": 3})))  # near, answered otherwise
    copy = " ".join(f"term{i}" for i in range(25))
    train += [chat(copy, "Sent today."), chat(copy + " thanks", "Sent today."), chat("hi", "ok"), chat("hi!", "ok")]
    path = str(write_jsonl(tmp_path / "train.jsonl", train))
    separate, joined = [], []
    for module, name, calls in ((minhash, "shingle_hashes", separate), (lsh, "joined_signatures", joined)):
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda texts, *a, real=real, calls=calls, **k:
                            calls.append(len(texts)) or real(texts, *a, **k))

    def report(*select):
        separate.clear(), joined.clear()
        result = audit(AuditConfig(train=[path], select=select))
        return {r["check"]: r for r in orjson.loads(orjson.dumps(result))["results"]}, sum(separate), sum(joined)

    both, separately, together = report("contradictions", "near-duplicates")
    assert (separately, together) == (0, len(train))
    alone = {check: report(check) for check in ("contradictions", "near-duplicates")}
    assert alone["contradictions"][1:] == (len(train), 0) and alone["near-duplicates"][1:] == (len(train), 0)
    for check in ("contradictions", "near-duplicates"):
        assert both[check]["findings"] == alone[check][0][check]["findings"]
    assert [sorted(r["line"] for r in [f, *f["related"]]) for f in both["contradictions"]["findings"]] == [[4, 41]]
    assert [f["data"]["lines"] for f in both["near-duplicates"]["findings"]] == [[42, 43]]


def test_checks_on_two_threads_give_the_results_of_one(tmp_path):
    import orjson

    from auditor import engine

    import threading

    calls: list[int] = []
    real = engine.run_checks
    real_run = engine._run_check
    ran_on: dict[int, set[str]] = {1: set(), 2: set()}

    def forced(checks, ctx, max_findings, progress=None, *, threads=1):
        calls.append(threads)
        return real(checks, ctx, max_findings, progress, threads=forced.threads)

    def run_one(*args, **kwargs):
        ran_on[forced.threads].add(threading.current_thread().name)
        return real_run(*args, **kwargs)

    config = AuditConfig(train=("sample_data/train.jsonl",), eval=("sample_data/eval.jsonl",),
                         schema="sample_data/schema.json")
    reports = {}
    for threads in (1, 2):
        forced.threads = threads
        engine.run_checks, engine._run_check = forced, run_one
        try:
            reports[threads] = orjson.dumps(audit(config))
        finally:
            engine.run_checks, engine._run_check = real, real_run
    assert ran_on[1] == {threading.main_thread().name} and len(ran_on[2]) == 2  # the checks ran on two threads
    assert reports[1] == reports[2]
    results = orjson.loads(reports[2])["results"]
    assert sum(len(r["findings"]) for r in results) > 20  # many checks found something: a real comparison
    assert calls == [1, 1]  # without a cache nothing is served from it: one thread


def test_an_artefact_two_threads_ask_for_at_once_is_built_once():
    import threading
    import time

    ctx = make_context(distinct_chats(4))
    builds: list[int] = []
    start = threading.Barrier(2)
    got: list[object] = []

    def build():
        builds.append(1)
        time.sleep(0.05)  # the other thread asks meanwhile
        return object()

    def ask():
        start.wait()
        got.append(ctx.shared(("exact-groups", 7), build))

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(builds) == 1 and got[0] is got[1]


def test_a_re_run_served_by_the_cache_runs_the_checks_on_two_threads(tmp_path, monkeypatch):
    from auditor import engine
    from auditor.store import open_cache

    path = write_jsonl(tmp_path / "train.jsonl", distinct_chats(30))
    monkeypatch.setattr(engine, "workers", lambda: 2)
    seen: list[int] = []
    real = engine.run_checks
    monkeypatch.setattr(engine, "run_checks", lambda *a, threads=1, **k: seen.append(threads) or real(*a, threads=threads, **k))
    config = AuditConfig(train=(str(path),))
    cold = audit(config, cache=open_cache(tmp_path / "cache"))
    for entry in (tmp_path / "cache" / "v1").glob("*.report"):
        entry.unlink()  # else the whole report is served and no check runs
    warm = audit(config, cache=open_cache(tmp_path / "cache"))
    assert seen == [1, 2]
    assert warm["results"] == cold["results"]


def test_a_selection_is_joined_from_its_parts_and_keeps_them_but_is_never_held_whole():
    from auditor.context import text as text_module
    from auditor.context.audit_context import _per_file_key, _text_artefact

    rows = distinct_chats(6)
    rows[1]["messages"].insert(0, {"role": "system", "content": "Be  BRIEF."})
    ctx = make_context(rows)

    def held(spec):
        return _per_file_key(_text_artefact(spec), True) in ctx._shared

    joined = ctx.text("input+response")
    assert joined.to_list() == text_module.matching_text(ctx.frame, ["input", "response"]).to_list()
    assert held("input") and held("response") and not held("input+response")  # a million rows: held once
    ctx.release(frozenset({"text:input+response"}))  # its parts are what it is made of
    assert held("input") and held("response")
    ctx.release(frozenset({"text:input"}))
    assert held("input") and not held("response")

    # the prompt is made of the system text and the user side, never normalized itself
    normalized = []
    real = text_module._matching_part
    ctx = make_context(rows)
    expected = text_module.matching_text(ctx.frame, ["prompt"]).to_list()
    text_module._matching_part = lambda frame, part: normalized.append(part) or real(frame, part)
    try:
        assert ctx.text("prompt").to_list() == expected
        assert ctx.text_rows("prompt+response", [1, 0]).to_list() == [
            text_module.normalize_text(ctx.frame["prompt"][r] + "\n" + ctx.frame["response"][r]) for r in (1, 0)]
    finally:
        text_module._matching_part = real
    assert "prompt" not in normalized and expected[1].startswith("be brief. ")
    assert held("system") and held("input") and not held("prompt")
    ctx.release(frozenset({"text:prompt+tools"}))
    assert held("system") and held("input")
    ctx.release(frozenset())
    assert not held("system") and not held("input")


def test_artefacts_built_a_slice_of_rows_at_a_time_give_the_report_built_whole(tmp_path, monkeypatch):
    # a million rows are built 131,072 at a time, so that a build's texts and temporaries are a slice's:
    # slices of 37 rows (cold without a cache; cold with one, block by block; then an edit) must give the
    # report that whole files give
    from auditor.context import audit_context
    from auditor.render.json_report import render_json
    from auditor.similarity import lsh
    from auditor.store import open_cache
    from conftest import generated_set

    config = generated_set(tmp_path)
    whole = render_json(audit(config))
    monkeypatch.setattr(audit_context, "BUILD_SLICE_ROWS", 37)
    sizes = []
    for name in ("text_bandings_keys", "joined_bandings_keys"):  # band keys of one text, of a text and its join
        real = getattr(lsh, name)
        monkeypatch.setattr(lsh, name, lambda texts, *a, real=real, **k: sizes.append(len(texts)) or real(texts, *a, **k))
    assert render_json(audit(config)) == whole
    assert max(sizes) <= 37 and sum(sizes) > 37 * 10  # built in slices, every row
    sizes.clear()
    assert render_json(audit(config, cache=open_cache(tmp_path / "cache"))) == whole
    assert max(sizes) <= 4096 and len(sizes) >= 2  # runs of blocks (blocks hold 256-4,096 lines), each file

    train = config.train[0]
    lines = open(train, encoding="utf-8").read().splitlines()
    lines[5] = lines[5].replace("ticket 5", "ticket five")
    with open(train, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    edited = render_json(audit(config, cache=open_cache(tmp_path / "cache")))
    monkeypatch.setattr(audit_context, "BUILD_SLICE_ROWS", 1 << 30)
    assert edited == render_json(audit(config)) and edited != whole
