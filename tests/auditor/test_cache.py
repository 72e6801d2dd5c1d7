"""The incremental cache: unchanged blocks are not recomputed, damaged entries are rebuilt, reports never change."""

from __future__ import annotations

import gzip
import io
import json
import os
import random

import numpy as np
import polars as pl
import pytest
from conftest import chat, distinct_chats

import auditor.engine as engine
import auditor.input.blocks as blocks_module
import auditor.input.dataset as dataset_module
from auditor.cli import main
from auditor.config import AuditConfig
from auditor.context import AuditContext
from auditor.input.blocks import block_key, stored_rows
from auditor.input.limits import DEFAULT_MAX_LINE_BYTES
from auditor.input.loading import SourceFile, iter_lines
from auditor.store import open_cache, pack_name
from auditor.store.entries import MAGIC
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
    """The blocks parsed (not served by the cache) from now on, as (number of lines, first line text)."""
    calls = []
    real = dataset_module.parse_block

    def counting(lines, first, *args, **kwargs):
        calls.append((len(lines), lines[0].decode(errors="replace")))
        return real(lines, first, *args, **kwargs)

    monkeypatch.setattr(dataset_module, "parse_block", counting)
    return calls


def flush(cache):
    """Wait for the cache's background writes (the engine does this at the end of every audit)."""
    if cache is not None:
        cache.flush()


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 2..40 lines (1 line in 4 may end one), so a test file of a few dozen lines has many."""
    monkeypatch.setattr(blocks_module, "BLOCK_MIN", 2)
    monkeypatch.setattr(blocks_module, "BLOCK_MAX", 40)
    monkeypatch.setattr(blocks_module, "BLOCK_SPREAD", 4)


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
    assert [n for n, _ in calls] == [11]  # the eval file is one block: re-parsed; train came from the cache
    assert warm == cli_report(capsys, train, "--eval", eval, "--no-cache")
    assert any(f["path"] == eval and f["line"] == 11 for r in json.loads(warm)["results"] for f in r["findings"])


def test_other_format_or_field_mapping_is_another_entry(tmp_path):
    lines = [b'{"prompt": "a", "completion": "b"}']
    keys = {block_key([fmt, sorted((fields or {}).items())], True, lines)
            for fmt, fields in [(None, None), ("chat", None), (None, {"prompt": "q"}), (None, {"prompt": "r"})]}
    keys.add(block_key([None, []], False, lines))  # not the first block: a byte-order mark is not stripped
    keys.add(block_key([None, []], True, lines + [b""]))
    assert len(keys) == 6
    assert block_key([None, []], True, list(lines)) == block_key([None, []], True, lines)


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
    rows = [cache_dir / "v1" / pack_name("rows", path, [None, [], DEFAULT_MAX_LINE_BYTES]) for path in (train, eval)]
    assert all(entry.is_file() for entry in rows)
    entries = sorted((cache_dir / "v1").glob("*.pack")) + sorted((cache_dir / "v1").glob("*.art"))
    assert len(entries) > 2  # the artefacts' packs too
    reports = sorted((cache_dir / "v1").glob("*.report"))
    assert len(reports) == 1
    for entry in entries + reports:
        entry.write_bytes(damage(entry.read_bytes()))
    calls = count_loads(monkeypatch)
    assert cli_report(capsys, train, "--eval", eval, "--cache-dir", str(cache_dir)) == cold
    assert sorted(n for n, _ in calls) == [10, 60]
    calls.clear()
    assert cli_report(capsys, train, "--eval", eval, "--cache-dir", str(cache_dir)) == cold
    assert calls == []  # rebuilt entries are good again


def test_entry_of_another_key_is_not_trusted(dataset, tmp_path):
    train, eval = dataset
    cache = open_cache(tmp_path / "cache")
    engine.audit(AuditConfig(train=(train,), eval=(eval,)), cache=cache)
    settings = [None, [], DEFAULT_MAX_LINE_BYTES]
    packs = [cache.entries / pack_name("rows", path, settings) for path in (train, eval)]
    packs[1].write_bytes(packs[0].read_bytes())  # a valid entry, stored under the wrong name
    fresh = open_cache(tmp_path / "cache")
    assert stored_rows(fresh, train, settings) is not None
    assert stored_rows(fresh, eval, settings) is None
    assert not packs[1].exists()  # dropped, to be rebuilt


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
        value = ctx.per_file(("prompt-length", 1), lengths)
        flush(cache)
        return ctx, value

    ctx, uncached = run(None)
    assert builds == [60, 10] and uncached.shape == (ctx.frame.height,)  # without a cache: whole files
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
    lambda frame: frame.select("valid", "prompt"),
    lambda frame: frame["prompt"],
    lambda frame: [len(p or "") for p in frame["prompt"].to_list()],
    lambda frame: frame["prompt"].str.len_bytes().fill_null(0).cast(pl.UInt64).to_numpy()
    .reshape(-1, 1).repeat(3, axis=1),
    lambda frame: [frame.height],  # not row-aligned: kept for the whole file
], ids=["frame", "series", "list", "2d-array", "per-file-list"])
def test_per_file_values_round_trip_and_concatenate(dataset, tmp_path, small_blocks, value):
    train, eval = dataset

    def run(cache):
        data = engine._load_all(AuditConfig(train=(train,), eval=(eval,)), engine.NoProgress(), cache)
        result = AuditContext(data, _cache=cache).per_file("value", value)
        flush(cache)
        return result

    def same(a, b):
        if isinstance(a, (pl.DataFrame, pl.Series)):
            return a.equals(b)
        if isinstance(a, np.ndarray):
            return a.dtype == b.dtype and np.array_equal(a, b)
        return a == b

    cold = run(None)
    assert same(cold, run(open_cache(tmp_path / "cache")))
    assert same(cold, run(open_cache(tmp_path / "cache")))
    lines = open(train, encoding="utf-8").read().splitlines(keepends=True)
    lines[30] = json.dumps(chat("an edited ticket", "{}")) + "\n"
    open(train, "w", encoding="utf-8").writelines(lines)
    assert same(run(None), run(open_cache(tmp_path / "cache")))  # some blocks cached, one rebuilt


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


def test_prune_keeps_the_entries_of_this_audit_even_beyond_the_limit(dataset, tmp_path):
    train, eval = dataset
    old = open_cache(tmp_path / "cache")
    stale = old.entries / "stale.pack"
    stale.write_bytes(b"x" * 100)
    os.utime(stale, ns=(10**9, 10**9))
    cache = open_cache(tmp_path / "cache")
    engine.audit(AuditConfig(train=(train,), eval=(eval,)), cache=cache)
    ours = sorted(p.name for p in cache.entries.iterdir() if p.name != "stale.pack")
    assert cache.prune(max_bytes=1) == 1  # only the entry no run has used for a long time
    assert sorted(p.name for p in cache.entries.iterdir()) == ours
    warm = open_cache(tmp_path / "cache")
    engine.audit(AuditConfig(train=(train,), eval=(eval,)), cache=warm)
    assert warm.misses == 0 and warm.hits > 0


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


# ---------------------------------------------------------------------------------------------------
# blocks of lines


def block_lines(path):
    return [(start, lines) for start, lines in blocks_module.iter_blocks(SourceFile(str(path)))]


@pytest.mark.parametrize("content", [
    b"", b"\n", b"a", b"a\n", b"a\r\nb\r\n\r\nc", b"\n\n\nx\r\r\n", b"{}\n" * 150 + b"{", b"x\ry\n",
])
@pytest.mark.parametrize("read", [1, 3, 1 << 20])
def test_blocks_split_lines_exactly_like_the_line_reader(tmp_path, monkeypatch, small_blocks, content, read):
    monkeypatch.setattr(blocks_module, "_READ_BYTES", read)  # chunk seams anywhere, even inside "\r\n"
    path = tmp_path / "t.jsonl"
    path.write_bytes(content)
    blocks = block_lines(path)
    expected = [raw for raw in __import__("io").BytesIO(content)]
    assert [line for _, lines in blocks for line in lines] == [raw.rstrip(b"\r\n") for raw in expected]
    assert [start for start, _ in blocks] == [sum(len(b) for _, b in blocks[:i]) for i in range(len(blocks))]
    assert len(list(iter_lines(__import__("io").BytesIO(content)))) == sum(len(b) for _, b in blocks)


def test_block_boundaries_depend_on_content_not_on_reads_and_an_edit_touches_at_most_two(tmp_path, monkeypatch):
    rng = random.Random(3)
    lines = [json.dumps({"prompt": f"p{i} {rng.random()}", "completion": "c"}) for i in range(3000)]
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(lines) + "\n")
    blocks = block_lines(path)
    sizes = [len(b) for _, b in blocks]
    assert min(sizes[:-1]) >= blocks_module.BLOCK_MIN and max(sizes) <= blocks_module.BLOCK_MAX
    assert 2 <= len(blocks) <= 12
    monkeypatch.setattr(blocks_module, "_READ_BYTES", 4099)
    assert block_lines(path) == blocks
    before = {tuple(b) for _, b in blocks}
    for edit in ("insert", "delete", "change"):
        changed = list(lines)
        at = 1500
        if edit == "insert":
            changed.insert(at, '{"prompt": "new", "completion": "c"}')
        elif edit == "delete":
            del changed[at]
        else:
            changed[at] += " "
        path.write_text("\n".join(changed) + "\n")
        after = [tuple(b) for _, b in block_lines(path)]
        assert sum(1 for b in after if b not in before) <= 2, edit


def mixed_records():
    records = []
    for i in range(80):
        if i % 17 == 5:
            records.append({"prompt": f"completion style {i}", "completion": "x"})  # minority format
        elif i % 23 == 7:
            records.append("{broken " + str(i))
        elif i % 29 == 3:
            records.append("")
        else:
            records.append(chat(f"ticket {i} about order {i * 7919}", json.dumps({"category": "billing", "id": i})))
    records[40] = records[12]  # an exact duplicate across blocks
    return records


@pytest.mark.parametrize("edit", ["change", "insert", "delete", "append", "bom"])
def test_edited_file_in_blocks_gives_the_cold_report(tmp_path, capsys, monkeypatch, small_blocks, edit):
    train = write_jsonl(tmp_path / "train.jsonl", mixed_records())
    eval = write_jsonl(tmp_path / "eval.jsonl", distinct_chats(12, start=1) + [mixed_records()[12]])
    args = (str(train), "--eval", str(eval))
    cache_dir = str(tmp_path / "cache")
    assert cli_report(capsys, *args, "--cache-dir", cache_dir) == cli_report(capsys, *args, "--no-cache")
    raw = train.read_bytes()
    lines = raw.splitlines(keepends=True)
    record = json.dumps(chat("a new ticket", "{}")).encode() + b"\n"
    if edit == "change":
        lines[33] = record
    elif edit == "insert":
        lines.insert(20, record)
    elif edit == "delete":
        del lines[50]
    elif edit == "append":
        lines.append(b"{oops")
    else:
        lines[0] = b"\xef\xbb\xbf" + lines[0]
    train.write_bytes(b"".join(lines))
    calls = count_loads(monkeypatch)
    edited = cli_report(capsys, *args, "--cache-dir", cache_dir)
    assert 1 <= len(calls) <= 2 and sum(n for n, _ in calls) <= 12  # only the edited block(s) parsed again
    cold = cli_report(capsys, *args, "--no-cache")
    assert edited == cold
    # and whatever the block layout: the default one (a single block here) gives the same report
    monkeypatch.setattr(blocks_module, "BLOCK_MIN", 256)
    monkeypatch.setattr(blocks_module, "BLOCK_MAX", 4096)
    monkeypatch.setattr(blocks_module, "BLOCK_SPREAD", 512)
    assert cli_report(capsys, *args, "--cache-dir", cache_dir) == cold
    assert cli_report(capsys, *args, "--cache-dir", str(tmp_path / "other")) == cold


def test_gzipped_file_is_blocked_too(tmp_path, capsys, small_blocks, monkeypatch):
    records = mixed_records()
    train = tmp_path / "train.jsonl.gz"
    train.write_bytes(gzip.compress(b"".join((r if isinstance(r, str) else json.dumps(r)).encode() + b"\n"
                                             for r in records)))
    cache_dir = str(tmp_path / "cache")
    cold = cli_report(capsys, str(train), "--no-cache")
    assert cli_report(capsys, str(train), "--cache-dir", cache_dir) == cold
    assert len(stored_rows(open_cache(cache_dir), str(train), [None, [], DEFAULT_MAX_LINE_BYTES]).keys) > 5
    records[60] = chat("edited", "{}")
    train.write_bytes(gzip.compress(b"".join((r if isinstance(r, str) else json.dumps(r)).encode() + b"\n"
                                             for r in records)))
    calls = count_loads(monkeypatch)
    edited = cli_report(capsys, str(train), "--cache-dir", cache_dir)
    assert 1 <= len(calls) <= 2
    assert edited == cli_report(capsys, str(train), "--no-cache")


def test_block_artefacts_rebuild_only_the_edited_run_and_builders_find_their_rows(tmp_path, small_blocks):
    train = write_jsonl(tmp_path / "train.jsonl", distinct_chats(60))
    eval = write_jsonl(tmp_path / "eval.jsonl", distinct_chats(10, start=100))
    config = AuditConfig(train=(str(train),), eval=(str(eval),))
    builds = []

    def run(cache):
        data = engine._load_all(config, engine.NoProgress(), cache)
        ctx = AuditContext(data, _cache=cache)
        texts = ctx.text("prompt")

        def build(frame):  # a builder is handed the rows it works on, whole files or runs of blocks
            builds.append(frame.height)
            return texts.gather(frame["row"]).str.len_bytes().to_numpy()

        value = ctx.per_file(("text-length", 1), build)
        assert ctx.frame.height == sum(d.lines for d in data) and ctx.datasets == data
        flush(cache)
        return value

    expected = run(None)
    assert builds == [60, 10]
    builds.clear()
    assert np.array_equal(run(open_cache(tmp_path / "cache")), expected)
    assert builds == [60, 10]  # a cold file is one run: its own frame
    builds.clear()
    assert np.array_equal(run(open_cache(tmp_path / "cache")), expected) and builds == []
    lines = train.read_text().splitlines(keepends=True)
    lines[25] = json.dumps(chat("a much longer ticket than any other one in this file", "{}")) + "\n"
    train.write_text("".join(lines))
    builds.clear()
    edited = run(open_cache(tmp_path / "cache"))
    assert 1 <= len(builds) <= 2 and sum(builds) <= 12
    builds.clear()
    assert np.array_equal(edited, run(None))


def test_concat_false_and_unaligned_values_are_kept_per_file(tmp_path, small_blocks):
    train = write_jsonl(tmp_path / "train.jsonl", distinct_chats(40))
    config = AuditConfig(train=(str(train),))
    builds = []

    def run(cache):
        data = engine._load_all(config, engine.NoProgress(), cache)
        ctx = AuditContext(data, _cache=cache)

        def windows(frame):  # positions within the file: cannot be cut into blocks
            builds.append(("windows", frame.height))
            return pl.DataFrame({"pos": np.arange(frame.height, dtype=np.uint32)})

        def summary(frame):
            builds.append(("summary", frame.height))
            return [frame.height, frame["prompt"].str.len_bytes().sum()]

        result = ctx.per_file("windows", windows, concat=False)[0], ctx.per_file("summary", summary)
        flush(cache)
        return result

    cold_windows, cold_summary = run(None)
    assert run(open_cache(tmp_path / "cache"))[0].equals(cold_windows)
    builds.clear()
    warm_windows, warm_summary = run(open_cache(tmp_path / "cache"))
    assert builds == [] and warm_windows.equals(cold_windows) and warm_summary == cold_summary == [40, cold_summary[1]]


def test_an_edited_file_replaces_its_packs_and_the_cold_report_is_kept(tmp_path, capsys, monkeypatch, small_blocks):
    train = write_jsonl(tmp_path / "train.jsonl", distinct_chats(60))
    cache_dir = str(tmp_path / "cache")
    cli_report(capsys, str(train), "--cache-dir", cache_dir)
    packs = sorted(p.name for p in (tmp_path / "cache" / "v1").glob("*.pack"))
    assert len(packs) >= 2  # the rows and the artefacts of the file
    lines = train.read_text().splitlines(keepends=True)
    lines.insert(0, json.dumps(chat("a new first ticket", "{}")) + "\n")  # every later row moves down one
    train.write_text("".join(lines))
    calls = count_loads(monkeypatch)
    edited = cli_report(capsys, str(train), "--cache-dir", cache_dir)
    assert 1 <= len(calls) <= 2  # the first block (and at most the next) parsed again
    assert sorted(p.name for p in (tmp_path / "cache" / "v1").glob("*.pack")) == packs  # replaced, not added
    assert edited == cli_report(capsys, str(train), "--no-cache")


def test_report_with_findings_of_every_check_is_json_and_served_whole(tmp_path, capsys, monkeypatch):
    # sample_data plants a problem for every check, contradictions among them
    args = ("sample_data/train.jsonl", "--eval", "sample_data/eval.jsonl", "--schema", "sample_data/schema.json")
    report = engine.audit(AuditConfig(train=(args[0],), eval=(args[2],), schema=args[4]))
    assert json.loads(json.dumps(report)) == report  # JSON through and through: no int keys, no tuples
    cache_dir = str(tmp_path / "cache")
    cold = cli_report(capsys, *args, "--cache-dir", cache_dir)
    assert len(list((tmp_path / "cache" / "v1").glob("*.report"))) == 1
    monkeypatch.setattr(engine, "_audit", lambda *a, **k: pytest.fail("an unchanged audit is recomputed"))
    assert cli_report(capsys, *args, "--cache-dir", cache_dir) == cold


def test_an_edited_re_run_normalizes_only_the_edited_blocks(tmp_path, capsys, monkeypatch, small_blocks):
    import auditor.context.audit_context as context_module

    train = write_jsonl(tmp_path / "train.jsonl", distinct_chats(120))
    leaked = chat(distinct_chats(1)[0]["messages"][1]["content"], "{}")  # train line 1's question
    eval = write_jsonl(tmp_path / "eval.jsonl", distinct_chats(12, start=500) + [leaked])
    args = (str(train), "--eval", str(eval), "--cache-dir", str(tmp_path / "cache"))
    cli_report(capsys, *args)
    normalized = []
    real = context_module.matching_text
    monkeypatch.setattr(context_module, "matching_text",
                        lambda frame, parts: normalized.append(frame.height) or real(frame, parts))
    lines = train.read_text().splitlines(keepends=True)
    lines[60] = json.dumps(chat("an edited ticket about a refund", "{}")) + "\n"
    train.write_text("".join(lines))
    edited = cli_report(capsys, *args)
    assert normalized and max(normalized) <= 80  # a run of at most two blocks, never the 133 rows
    monkeypatch.setattr(context_module, "matching_text", real)
    assert edited == cli_report(capsys, *args[:3], "--no-cache")


def test_planted_fifos_links_and_moved_payloads_in_the_cache_are_misses(tmp_path):
    import os

    import pytest as _pytest

    from auditor.store import CacheMiss, open_cache
    from auditor.store.entries import read_entry

    cache = open_cache(tmp_path / "cache")
    entry = cache.entries / "planted.art"
    cache.entries.mkdir(parents=True, exist_ok=True)
    os.mkfifo(entry)
    with _pytest.raises(CacheMiss):
        read_entry(entry)  # at once: a FIFO is never opened for a blocking read
    assert not entry.exists()
    os.symlink("/dev/zero", entry)
    with _pytest.raises(CacheMiss):
        read_entry(entry)
    assert not os.path.lexists(entry)
    # an entry written under one key does not verify under another
    cache.write("key-a.art", {}, b"payload")
    assert cache.read("key-a.art")[1] == b"payload"
    os.replace(cache.entries / "key-a.art", cache.entries / "key-b.art")
    with _pytest.raises(CacheMiss):
        cache.read("key-b.art")


def test_concurrent_audits_sharing_one_cache_agree(tmp_path):
    import subprocess
    import sys

    train = write_jsonl(tmp_path / "train.jsonl", distinct_chats(300) + distinct_chats(20))
    evals = write_jsonl(tmp_path / "eval.jsonl", distinct_chats(30, start=5_000) + distinct_chats(3))
    cache_dir = tmp_path / "cache"

    def command(i, *extra):
        return [sys.executable, "-m", "auditor", "audit", str(train), "--eval", str(evals), "--report", "json",
                "--output", str(tmp_path / f"r{i}.json"), "-q", *extra]

    # four cold runs race to write the same entries; then a warm run and one without the cache
    running = [subprocess.Popen(command(i, "--cache-dir", str(cache_dir)), stderr=subprocess.PIPE)
               for i in range(4)]
    codes = [(p.wait(), p.stderr.read()) for p in running]
    assert codes == [(1, b"")] * 4
    assert subprocess.run(command(4, "--cache-dir", str(cache_dir)), capture_output=True).returncode == 1
    assert subprocess.run(command(5, "--no-cache"), capture_output=True).returncode == 1
    reports = {(tmp_path / f"r{i}.json").read_bytes() for i in range(6)}
    assert len(reports) == 1
    assert not [p for p in cache_dir.rglob("*") if ".tmp" in p.name]  # no temporary file left behind


def test_an_edited_check_module_never_reads_what_the_old_code_cached(tmp_path, monkeypatch):
    # a constant beside an artefact builder changes, no version is bumped: the warm run must see it
    import importlib
    import sys

    import auditor.store.code as code_module
    from auditor.registry import Registry

    package = tmp_path / "plugin_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    source = '''
from auditor import Check, Severity

WORD = "{word}"


class Counts(Check):
    """Rows holding WORD."""

    id = "word-count"
    code = "WRD001"

    def run(self, ctx):
        flags = ctx.per_file(("holds-word",), lambda frame: frame["prompt"].str.contains(WORD).to_numpy())
        rows = [int(r) for r in flags.nonzero()[0]]
        return self.result([self.finding(f"holds {{WORD}}", source=ctx.datasets[0].path, line=r + 1,
                                         severity=Severity.WARNING) for r in rows])
'''
    module_file = package / "word.py"
    module_file.write_text(source.format(word="alpha"))
    monkeypatch.syspath_prepend(str(tmp_path))
    train = write_jsonl(tmp_path / "train.jsonl", [chat("alpha one", "a"), chat("beta two", "b"), chat("beta", "c")])

    def lines_found():
        module = importlib.reload(importlib.import_module("plugin_pkg.word"))
        config = AuditConfig(train=(str(train),), select=("word-count",))
        report = engine.audit(config, registry=Registry.from_classes([module.Counts]),
                              cache=open_cache(tmp_path / "cache"))
        return [f["line"] for r in report["results"] if r["check"] == "word-count" for f in r["findings"]]

    assert lines_found() == [1]
    module_file.write_text(source.format(word="beta"))
    code_module._FOLDERS.clear()  # a new process would read the folder afresh
    sys.modules.pop("plugin_pkg.word", None)
    assert lines_found() == [2, 3]


def test_an_edit_of_few_rows_writes_a_delta_beside_the_packs(tmp_path, capsys, monkeypatch, small_blocks):
    train = write_jsonl(tmp_path / "train.jsonl", distinct_chats(200))
    cache_dir = str(tmp_path / "cache")
    entries = tmp_path / "cache" / "v1"
    cli_report(capsys, str(train), "--cache-dir", cache_dir)
    packs = {p.name: p.read_bytes() for p in entries.glob("*.pack")}
    assert packs and not list(entries.glob("*.delta"))

    def edit(line: int, text: str) -> None:
        lines = train.read_text().splitlines(keepends=True)
        lines[line] = json.dumps(chat(text, "{}")) + "\n"
        train.write_text("".join(lines))

    edit(100, "an edited ticket")
    calls = count_loads(monkeypatch)
    edited = cli_report(capsys, str(train), "--cache-dir", cache_dir)
    assert 1 <= len(calls) <= 2  # the edited block (and at most the next) parsed again
    assert {p.name: p.read_bytes() for p in entries.glob("*.pack")} == packs  # not rewritten
    deltas = sorted(entries.glob("*.delta"))
    assert {d.stem for d in deltas} == {p.removesuffix(".pack") for p in packs}  # one per pack, beside it
    assert sum(d.stat().st_size for d in deltas) < sum(map(len, packs.values())) / 4
    assert edited == cli_report(capsys, str(train), "--no-cache")

    # a second edit elsewhere: the delta holds both edited blocks, still on the same packs
    edit(20, "another edited ticket")
    calls.clear()
    again = cli_report(capsys, str(train), "--cache-dir", cache_dir)
    assert 1 <= len(calls) <= 2
    assert {p.name: p.read_bytes() for p in entries.glob("*.pack")} == packs
    assert again == cli_report(capsys, str(train), "--no-cache")
    rows = stored_rows(open_cache(tmp_path / "cache"), str(train), [None, [], DEFAULT_MAX_LINE_BYTES])
    assert rows is not None and rows.value.height == 200

    # most rows changed: the packs are rewritten for the file as it is now
    train.write_text("".join(json.dumps(chat(f"rewritten ticket {i}", "{}")) + "\n" for i in range(200)))
    rewritten = cli_report(capsys, str(train), "--cache-dir", cache_dir)
    assert {p.name: p.read_bytes() for p in entries.glob("*.pack")} != packs
    assert rewritten == cli_report(capsys, str(train), "--no-cache")


@pytest.mark.parametrize("damage", [lambda blob: blob[: len(blob) // 2], lambda blob: b"garbage"],
                         ids=["truncated", "garbage"])
def test_a_damaged_delta_is_ignored_and_its_blocks_rebuilt(tmp_path, capsys, monkeypatch, small_blocks, damage):
    train = write_jsonl(tmp_path / "train.jsonl", distinct_chats(200))
    cache_dir = str(tmp_path / "cache")
    cli_report(capsys, str(train), "--cache-dir", cache_dir)
    lines = train.read_text().splitlines(keepends=True)
    lines[150] = json.dumps(chat("an edited ticket", "{}")) + "\n"
    train.write_text("".join(lines))
    edited = cli_report(capsys, str(train), "--cache-dir", cache_dir)
    deltas = sorted((tmp_path / "cache" / "v1").glob("*.delta"))
    assert deltas
    for delta in deltas:
        delta.write_bytes(damage(delta.read_bytes()))
    for report in (tmp_path / "cache" / "v1").glob("*.report"):
        report.unlink()  # the whole report would be served without reading any pack
    calls = count_loads(monkeypatch)
    assert cli_report(capsys, str(train), "--cache-dir", cache_dir) == edited
    assert 1 <= len(calls) <= 2  # what the base packs lack is parsed again


def test_arrays_are_served_from_the_entry_bytes_and_stay_writable(tmp_path):
    cache = open_cache(tmp_path / "cache")
    import mmap

    from auditor.store.entries import MAP_BYTES, read_entry

    values = {"c": np.arange(12, dtype=np.uint64).reshape(3, 4), "f": np.asfortranarray(np.arange(6).reshape(2, 3)),
              "empty": np.zeros((0, 5), np.uint32), "big-endian": np.arange(5, dtype=">i4"),
              "mapped": np.arange(MAP_BYTES // 8 * 3, dtype=np.uint64).reshape(-1, 3)}  # an entry above MAP_BYTES
    for name, value in values.items():
        cache.put_value(f"{name}.art", value)
    fresh = open_cache(tmp_path / "cache")
    served_values = {}
    for name, value in values.items():
        _, served = fresh.get_value(f"{name}.art")
        assert served.dtype == value.dtype and served.shape == value.shape and np.array_equal(served, value)
        served[...] = 0  # a check may write into what it is served; the entry on disk is untouched
        served_values[name] = served
    again = open_cache(tmp_path / "cache")
    assert isinstance(read_entry(again.entries / "mapped.art", mapped=True), mmap.mmap)  # mapped, not read
    assert isinstance(read_entry(again.entries / "c.art", mapped=True), bytearray)  # a small one is read
    assert np.array_equal(again.get_value("c.art")[1], values["c"])
    assert np.array_equal(again.get_value("mapped.art")[1], values["mapped"])  # the write stayed in memory
    # the entry replaced while a value mapped from it lives (as another audit would): the value keeps its rows
    _, mapped = open_cache(tmp_path / "cache").get_value("mapped.art")
    cache.put_value("mapped.art", values["mapped"] + np.uint64(1))
    assert np.array_equal(mapped, values["mapped"])
    assert np.array_equal(open_cache(tmp_path / "cache").get_value("mapped.art")[1], values["mapped"] + np.uint64(1))


@pytest.mark.parametrize("wrong", ["columns", "rows"])
def test_stored_rows_that_decode_to_other_rows_are_parsed_again(tmp_path, capsys, monkeypatch, small_blocks, wrong):
    # the stored rows are decoded on a second thread while the file is read: what they turn out to be
    # is known only after the blocks were matched on the entry's header
    train = write_jsonl(tmp_path / "train.jsonl", distinct_chats(200))
    cache_dir = tmp_path / "cache"
    cold = cli_report(capsys, str(train), "--cache-dir", str(cache_dir))
    cache = open_cache(cache_dir)
    name = pack_name("rows", str(train), [None, [], DEFAULT_MAX_LINE_BYTES])
    header, payload = cache.read(name)
    frame = pl.read_ipc(io.BytesIO(payload))
    value = frame.rename({"prompt": "question"}) if wrong == "columns" else frame.head(199)
    cache.put_value(name, value, {k: v for k, v in header.items() if k not in ("key", "size", "xxh3", "type")})
    for report in (cache_dir / "v1").glob("*.report"):
        report.unlink()  # the whole report would be served without reading any pack
    calls = count_loads(monkeypatch)
    assert cli_report(capsys, str(train), "--cache-dir", str(cache_dir)) == cold
    assert sum(n for n, _ in calls) == 200  # every line parsed, none taken from the wrong rows
    calls.clear()
    assert cli_report(capsys, str(train), "--cache-dir", str(cache_dir)) == cold
    assert calls == []  # and stored again as they are


def _random_lines(rng, n):
    words = ["alpha", "beta", "gamma", "delta", "{\"a\": 1}", "", "x" * 30, "naïve café", "\ufeffbom"]
    return [" ".join(rng.choice(words) for _ in range(rng.randint(0, 4))) for _ in range(n)]


@pytest.mark.parametrize("seed", range(60))
def test_known_blocks_cut_an_edited_file_exactly_as_iter_blocks(tmp_path, monkeypatch, small_blocks, seed):
    # an edited file is cut from the layout the cache recorded: the blocks (their lines, keys and byte
    # sizes) must be exactly what cutting the whole file line by line gives, for any edit
    from auditor.input.blocks import block_bytes, file_layout, iter_blocks, known_blocks, store_rows
    from auditor.input.dataset import load_dataset

    rng = random.Random(seed)
    lines = _random_lines(rng, rng.randint(1, 160))
    path = tmp_path / "train.jsonl"
    ending = rng.random() < 0.8
    path.write_bytes(("\n".join(lines) + ("\n" if ending else "")).encode())
    cache = open_cache(tmp_path / "cache")
    load_dataset(str(path), "train", cache=cache)
    cache.flush()
    settings = [None, [], DEFAULT_MAX_LINE_BYTES]
    pack = stored_rows(open_cache(tmp_path / "cache"), str(path), settings)
    assert pack is not None and "layout" in pack.header

    edits = [rng.choice(["replace", "insert", "delete", "append", "ending"]) for _ in range(rng.randint(1, 3))]
    for what in edits:  # 1-3 edits anywhere: replace, insert, delete, append, the last line end
        at = rng.randrange(len(lines) + 1)
        if what == "replace" and lines:
            lines[min(at, len(lines) - 1)] = _random_lines(rng, 1)[0] + " edited"
        elif what == "insert":
            inserted = _random_lines(rng, rng.randint(1, 30))
            lines[at:at] = inserted
        elif what == "delete" and len(lines) > 1:
            del lines[at:at + rng.randint(1, 20)]
        elif what == "append":
            lines += _random_lines(rng, rng.randint(1, 30))
        else:
            ending = not ending
    path.write_bytes(("\n".join(lines) + ("\n" if ending else "")).encode())

    source = SourceFile(str(path))
    full = list(iter_blocks(source))
    known = known_blocks(source, settings, pack)
    assert known is not None
    assert [(start, count) for start, _, _, count, _ in known] == [(start, len(block)) for start, block in full]
    for (start, block_lines, key, count, size), (_, cut) in zip(known, full):
        if block_lines is None:
            assert key == block_key(settings, start == 0, cut)  # a stored block, recognized where it lies
        else:
            assert block_lines == cut
        assert size == block_bytes(cut) or (not ending and size == block_bytes(cut) - 1)
    assert sum(size for *_, size in known) == path.stat().st_size
    assert file_layout([block_bytes(cut) for _, cut in full], path.stat().st_size) == [k[-1] for k in known]
    recognized = [k[1] is None for k in known]
    if len(full) >= 6 and len(edits) == 1 and edits[0] in ("replace", "insert", "delete"):
        # one edit touches a block or two (an insert adds its own, of BLOCK_MIN lines or more): the
        # others, before and after it, are found as stored
        new_blocks = len(inserted) // 2 if edits[0] == "insert" else 0
        assert recognized.count(False) <= 3 + new_blocks, (edits, recognized)


def test_a_file_with_a_carriage_return_is_cut_line_by_line(tmp_path, capsys, monkeypatch, small_blocks):
    from auditor.input.blocks import known_blocks

    train = write_jsonl(tmp_path / "train.jsonl", distinct_chats(80))
    cache_dir = str(tmp_path / "cache")
    cli_report(capsys, str(train), "--cache-dir", cache_dir)
    lines = train.read_bytes().split(b"\n")
    lines[40] = lines[40] + b"\r"  # one CRLF line: the line reader drops the CR, the bytes keep it
    train.write_bytes(b"\n".join(lines))
    pack = stored_rows(open_cache(tmp_path / "cache"), str(train), [None, [], DEFAULT_MAX_LINE_BYTES])
    assert known_blocks(SourceFile(str(train)), [None, [], DEFAULT_MAX_LINE_BYTES], pack) is None
    assert cli_report(capsys, str(train), "--cache-dir", cache_dir) == cli_report(capsys, str(train), "--no-cache")
