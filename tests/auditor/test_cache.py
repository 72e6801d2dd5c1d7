"""The incremental cache: unchanged files are not recomputed, damaged entries are rebuilt, reports never change."""

from __future__ import annotations

import json
import os

import numpy as np
import polars as pl
import pytest
from conftest import distinct_chats

import auditor.engine as engine
from auditor.cache import MAGIC, open_cache
from auditor.cli import main
from auditor.config import AuditConfig
from auditor.context import AuditContext
from auditor.testing import write_jsonl


@pytest.fixture
def dataset(tmp_path):
    records = distinct_chats(60)
    records[3] = '{"messages": [oops'
    records[9] = ""
    train = write_jsonl(tmp_path / "train.jsonl", records)
    eval = write_jsonl(tmp_path / "eval.jsonl", distinct_chats(10, start=100))
    return str(train), str(eval)


def cli_report(capsys, *args):
    with pytest.raises(SystemExit) as exc:
        main(["audit", *args, "--report", "json", "--output", "-", "-q"])
    out, err = capsys.readouterr()
    assert exc.value.code in (0, 1), err
    return out


def count_loads(monkeypatch):
    calls = []
    real = engine.load_dataset

    def counting(path, split, **kwargs):
        calls.append((path, split))
        return real(path, split, **kwargs)

    monkeypatch.setattr(engine, "load_dataset", counting)
    return calls


def test_warm_run_gives_byte_identical_json_without_reloading(dataset, tmp_path, capsys, monkeypatch):
    train, eval = dataset
    cache_dir = str(tmp_path / "cache")
    cold = cli_report(capsys, train, "--eval", eval, "--no-cache")
    assert not os.path.exists(cache_dir)
    first = cli_report(capsys, train, "--eval", eval, "--cache-dir", cache_dir)
    calls = count_loads(monkeypatch)
    warm = cli_report(capsys, train, "--eval", eval, "--cache-dir", cache_dir)
    assert calls == []  # both files came from the cache
    assert cold == first == warm
    assert json.loads(warm)["inputs"][0]["sha256"] is not None
    assert (tmp_path / "cache" / ".gitignore").read_text().splitlines()[-1] == "*"
    assert not [p for p in (tmp_path / "cache").rglob("*.tmp")]  # atomic writes leave no temp files


def test_editing_one_file_reloads_only_that_file(dataset, tmp_path, capsys, monkeypatch):
    train, eval = dataset
    cache_dir = str(tmp_path / "cache")
    cli_report(capsys, train, "--eval", eval, "--cache-dir", cache_dir)
    with open(eval, "a") as handle:
        handle.write("not json\n")
    calls = count_loads(monkeypatch)
    warm = cli_report(capsys, train, "--eval", eval, "--cache-dir", cache_dir)
    assert calls == [(eval, "eval")]
    assert warm == cli_report(capsys, train, "--eval", eval, "--no-cache")
    assert any(f["path"] == eval and f["line"] == 11 for r in json.loads(warm)["results"] for f in r["findings"])


def test_other_format_or_field_mapping_is_another_entry(dataset, tmp_path):
    train, _ = dataset
    cache = open_cache(tmp_path / "cache")
    keys = {cache.file_key(train, "train", fmt, fields)
            for fmt, fields in [(None, None), ("chat", None), (None, {"prompt": "q"}), (None, {"prompt": "r"})]}
    keys.add(cache.file_key(train, "eval", None, None))
    assert len(keys) == 5


@pytest.mark.parametrize("damage", [
    lambda blob: blob[: len(blob) // 2],                      # truncated
    lambda blob: blob[:-10] + bytes(10),                      # payload changed, checksum kept
    lambda blob: b"garbage",                                  # not an entry at all
    lambda blob: MAGIC + b"\xff\xff\xff\x7f{",                # header length beyond the file
], ids=["truncated", "flipped", "garbage", "bad-header"])
def test_damaged_entries_are_ignored_and_rebuilt(dataset, tmp_path, capsys, monkeypatch, damage):
    train, eval = dataset
    cache_dir = tmp_path / "cache"
    cold = cli_report(capsys, train, "--eval", eval, "--cache-dir", str(cache_dir))
    entries = sorted((cache_dir / "v1").glob("*.rows"))
    assert len(entries) == 2
    reports = sorted((cache_dir / "v1").glob("*.report"))
    assert len(reports) == 1
    for entry in entries + reports:
        entry.write_bytes(damage(entry.read_bytes()))
    calls = count_loads(monkeypatch)
    assert cli_report(capsys, train, "--eval", eval, "--cache-dir", str(cache_dir)) == cold
    assert sorted(calls) == [(eval, "eval"), (train, "train")]
    calls.clear()
    assert cli_report(capsys, train, "--eval", eval, "--cache-dir", str(cache_dir)) == cold
    assert calls == []  # rebuilt entries are good again


def test_entry_of_another_key_is_not_trusted(dataset, tmp_path):
    train, eval = dataset
    cache = open_cache(tmp_path / "cache")
    config = AuditConfig(train=(train,), eval=(eval,))
    engine.audit(config, cache=cache)
    entries = sorted((tmp_path / "cache" / "v1").glob("*.rows"))
    blobs = [e.read_bytes() for e in entries]
    entries[0].write_bytes(blobs[1])  # a valid entry, stored under the wrong name
    fresh = open_cache(tmp_path / "cache")
    assert [fresh.load(p, s, first_row=0, fmt=None, fields=None) is None for p, s in [(train, "train"), (eval, "eval")]
            ].count(True) == 1
    assert fresh.misses == 1


def test_unusable_cache_directory_is_not_fatal(dataset, tmp_path, capsys):
    train, eval = dataset
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache directory should be")
    assert open_cache(blocker) is None
    assert cli_report(capsys, train, "--eval", eval, "--cache-dir", str(blocker)) == \
        cli_report(capsys, train, "--eval", eval, "--no-cache")


def test_cache_lives_next_to_the_config_file_and_config_can_turn_it_off(dataset, tmp_path, capsys, monkeypatch):
    train, eval = dataset
    (tmp_path / "auditor.toml").write_text('train = "train.jsonl"\neval = "eval.jsonl"\n')
    sub = tmp_path / "sub"
    sub.mkdir()
    monkeypatch.chdir(sub)
    cli_report(capsys)
    assert (tmp_path / ".auditor_cache" / ".gitignore").is_file() and not (sub / ".auditor_cache").exists()
    (tmp_path / "auditor.toml").write_text('train = "train.jsonl"\ncache = false\ncache_dir = "elsewhere"\n')
    cli_report(capsys)
    assert not (tmp_path / "elsewhere").exists()
    cli_report(capsys, "--cache")
    assert (tmp_path / "elsewhere" / "v1").is_dir()


def test_per_file_artefacts_are_built_once_per_file_content(dataset, tmp_path):
    train, eval = dataset
    builds = []

    def lengths(frame):
        builds.append(frame.height)
        return frame["prompt"].fill_null("").str.len_chars().to_numpy()

    def run(cache):
        data = engine._load_all(AuditConfig(train=(train,), eval=(eval,)), engine.NoProgress(), cache)
        ctx = AuditContext(data, _cache=cache)
        return ctx, ctx.per_file(("prompt-length", 1), lengths)

    ctx, uncached = run(None)
    assert builds == [60, 10] and uncached.shape == (ctx.frame.height,)
    expected = ctx.frame["prompt"].fill_null("").str.len_chars().to_numpy()
    assert np.array_equal(uncached, expected)
    builds.clear()
    run(open_cache(tmp_path / "cache"))
    assert builds == [60, 10]
    builds.clear()
    ctx, warm = run(open_cache(tmp_path / "cache"))
    assert builds == [] and np.array_equal(warm, expected)
    assert ctx.per_file(("prompt-length", 1), lengths) is warm  # memoized within the audit
    with open(eval, "a") as handle:
        handle.write(json.dumps(distinct_chats(1, start=900)[0]) + "\n")
    builds.clear()
    run(open_cache(tmp_path / "cache"))
    assert builds == [11]


@pytest.mark.parametrize("value", [
    lambda frame: frame.select("line", "prompt"),
    lambda frame: frame["prompt"],
    lambda frame: [len(p or "") for p in frame["prompt"].to_list()],
    lambda frame: np.arange(frame.height, dtype=np.uint64).reshape(-1, 1).repeat(3, axis=1),
], ids=["frame", "series", "list", "2d-array"])
def test_per_file_values_round_trip_and_concatenate(dataset, tmp_path, value):
    train, eval = dataset

    def run(cache):
        data = engine._load_all(AuditConfig(train=(train,), eval=(eval,)), engine.NoProgress(), cache)
        return AuditContext(data, _cache=cache).per_file("value", value)

    def same(a, b):
        if isinstance(a, (pl.DataFrame, pl.Series)):
            return a.equals(b)
        if isinstance(a, np.ndarray):
            return a.dtype == b.dtype and np.array_equal(a, b)
        return a == b

    cold = run(None)
    run(open_cache(tmp_path / "cache"))
    assert same(cold, run(open_cache(tmp_path / "cache")))


def test_per_file_rejects_keys_and_values_it_cannot_cache(dataset, tmp_path):
    train, _ = dataset
    cache = open_cache(tmp_path / "cache")
    data = engine._load_all(AuditConfig(train=(train,)), engine.NoProgress(), cache)
    ctx = AuditContext(data, _cache=cache)
    with pytest.raises(TypeError, match="key"):
        ctx.per_file(("x", object()), lambda frame: [])
    for context in (ctx, AuditContext(data)):
        with pytest.raises(TypeError, match="numpy array, a polars Series or DataFrame, or a list"):
            context.per_file("set", lambda frame: {1, 2})


def test_prune_removes_least_recently_used_entries(tmp_path):
    cache = open_cache(tmp_path / "cache")
    for i in range(5):
        entry = cache.entries / f"{i}.rows"
        entry.write_bytes(b"x" * 100)
        os.utime(entry, ns=(i * 10**9, i * 10**9))
    assert cache.prune(max_bytes=250) == 3
    assert sorted(p.name for p in cache.entries.iterdir()) == ["3.rows", "4.rows"]


def test_unchanged_audit_is_served_whole_and_any_change_recomputes(dataset, tmp_path, capsys, monkeypatch):
    train, eval = dataset
    cache_dir = tmp_path / "cache"
    cold = cli_report(capsys, train, "--eval", eval, "--cache-dir", str(cache_dir))
    calls = count_loads(monkeypatch)
    ran = []
    real = engine._audit
    monkeypatch.setattr(engine, "_audit", lambda *a, **k: ran.append(1) or real(*a, **k))
    assert cli_report(capsys, train, "--eval", eval, "--cache-dir", str(cache_dir)) == cold
    assert ran == [] and calls == []  # nothing recomputed, nothing re-read
    other = cli_report(capsys, train, "--eval", eval, "--cache-dir", str(cache_dir), "--min-examples", "3")
    assert ran == [1] and json.loads(other)["verdict"]["min_examples"] == 3
    with open(eval, "a", encoding="utf-8") as handle:
        handle.write("{broken\n")
    edited = cli_report(capsys, train, "--eval", eval, "--cache-dir", str(cache_dir))
    assert ran == [1, 1] and edited != cold
