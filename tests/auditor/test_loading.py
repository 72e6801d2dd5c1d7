import gzip

import pytest

from auditor.errors import DatasetLoadError
from auditor.input.dataset import load_dataset
from auditor.input.loading import SourceFile, parse_line

CHAT = b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}'


def issues_of(data):
    return [(i.line, i.code, i.message) for i in data.issues]


def test_ten_lines_with_three_broken_give_three_findings_and_seven_rows(tmp_path):
    lines = [CHAT] * 10
    lines[2] = b'{"messages": [1, 2'
    lines[5] = b"[1, 2]"
    lines[8] = b'{"a": 1,}'
    path = tmp_path / "train.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    data = load_dataset(str(path), "train")
    assert data.lines == 10
    assert data.frame["valid"].sum() == 7
    assert [(line, code) for line, code, _ in issues_of(data)] == [(3, "AUD001"), (6, "AUD001"), (9, "AUD001")]
    assert issues_of(data)[1][2] == "JSON value is an array, not an object"


def test_invalid_json_message_names_the_column():
    result = parse_line(b'{"a": 1 "b": 2}', 17)
    assert result.record is None
    assert result.error == "invalid JSON: expecting ',' delimiter at column 9"


def test_unterminated_string_message_reads_naturally():
    assert parse_line(b'{"a": "abc', 1).error == "invalid JSON: unterminated string starting at column 7"


def test_invalid_utf8_names_the_byte():
    assert parse_line(b'{"a": "\xff"}', 1).error == "invalid UTF-8 at byte 8"


def test_bom_crlf_and_blank_lines(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + CHAT + b"\r\n" + b"\r\n" + CHAT + b"\r\n   \n" + CHAT)
    data = load_dataset(str(path), "train")
    assert data.lines == 5
    assert data.frame["valid"].to_list() == [True, False, True, False, True]
    assert [(line, code) for line, code, _ in issues_of(data)] == [(1, "AUD003"), (2, "AUD002"), (4, "AUD002")]
    assert data.frame["response"].to_list()[0] == "hello"


def test_repeated_lines_are_parsed_alike_and_a_bom_only_on_line_one(tmp_path):
    # identical lines share one parse; a BOM copied onto a later line is still that line's error
    bad = b'{"messages": [{"role": "user", "content": "q"}]}'
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"\n".join([b"\xef\xbb\xbf" + CHAT, b"\xef\xbb\xbf" + CHAT, CHAT, bad, CHAT, bad, b"", b""]) + b"\n")
    data = load_dataset(str(path), "train")
    assert data.frame["valid"].to_list() == [True, False, True, False, True, False, False, False]
    assert [(line, code) for line, code, _ in issues_of(data)] == [
        (1, "AUD003"), (2, "AUD001"), (4, "FMT001"), (6, "FMT001"), (7, "AUD002"), (8, "AUD002")]
    assert data.frame["response"].to_list() == ["hello", None, "hello", None, "hello", None, None, None]
    assert data.formats == {"chat": 5}


def test_nul_bytes_and_deep_nesting_become_line_errors():
    assert parse_line(b'{"a": "x\x00y"}', 1).error.startswith("invalid JSON")
    deep = b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    result = parse_line(deep, 1)
    assert result.record is None and "nested" in result.error


def test_gzip_is_read_transparently(tmp_path):
    path = tmp_path / "t.jsonl.gz"
    path.write_bytes(gzip.compress(CHAT + b"\n" + b"{oops\n"))
    data = load_dataset(str(path), "train")
    assert data.frame["valid"].to_list() == [True, False]
    assert data.format == "chat"


def test_sha256_covers_the_raw_file(tmp_path):
    import hashlib

    path = tmp_path / "t.jsonl"
    path.write_bytes(CHAT + b"\n")
    assert load_dataset(str(path), "train").sha256 == hashlib.sha256(CHAT + b"\n").hexdigest()


@pytest.mark.parametrize("make, message", [
    (lambda p: p, "file not found"),
    (lambda p: (p.mkdir(), p)[1], "is a directory"),
    (lambda p: (p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))), p)[1], "binary"),
], ids=["missing", "directory", "binary"])
def test_unreadable_inputs_raise_one_line_errors(tmp_path, make, message):
    path = make(tmp_path / "x.jsonl")
    with pytest.raises(DatasetLoadError) as exc:
        SourceFile(str(path))
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_corrupt_gzip_is_a_load_error(tmp_path):
    path = tmp_path / "t.jsonl.gz"
    path.write_bytes(gzip.compress(CHAT * 100)[:40])
    with pytest.raises(DatasetLoadError, match="cannot read"):
        load_dataset(str(path), "train")


def test_numbers_and_strings_no_trainer_reads_get_a_short_right_reason():
    from auditor.input.loading import parse_line

    cases = {b'{"a": NaN}': "invalid JSON: unexpected character, expected a JSON value at column 7",
             b'{"a": 1e400}': "invalid JSON: number is infinity when parsed as double at column 7",
             b'{"a": "\\ud800"}': "invalid JSON: no low surrogate in string at column 8",
             b'{"a": ' + b"9" * 5000 + b"}": "invalid JSON: number is infinity when parsed as double at column 7",
             b"[" * 3000 + b"]" * 3000: "invalid JSON: nested more than 1024 levels deep"}
    for raw, reason in cases.items():
        parsed = parse_line(raw, 1)
        assert parsed.record is None and parsed.error == reason


def test_text_with_nul_lines_is_read_and_binary_files_are_refused(tmp_path):
    import pytest as _pytest

    from auditor import DatasetLoadError
    from auditor.input.dataset import load_dataset

    (tmp_path / "nul.jsonl").write_bytes(b"\x00\n")
    data = load_dataset(str(tmp_path / "nul.jsonl"), "train", first_row=0)
    assert data.lines == 1 and [i.line for i in data.issues] == [1]
    (tmp_path / "bom.jsonl").write_bytes(b'\xef\xbb\xbf{"prompt": "a", "completion": "b"}\n\x00\x00\n')
    data = load_dataset(str(tmp_path / "bom.jsonl"), "train", first_row=0)
    assert data.lines == 2 and data.frame["valid"].to_list() == [True, False]
    (tmp_path / "image.jsonl").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xd8\xff\x00" * 20)
    with _pytest.raises(DatasetLoadError, match="looks like a binary file"):
        load_dataset(str(tmp_path / "image.jsonl"), "train", first_row=0)


def test_a_file_changed_during_the_audit_is_an_error_not_a_mixed_report(tmp_path):
    import pytest as _pytest

    from auditor import DatasetLoadError
    from auditor.input.dataset import load_dataset

    path = tmp_path / "t.jsonl"
    path.write_text('{"prompt": "a", "completion": "b"}\n{"prompt": "c", "completion": "d"}\n')
    data = load_dataset(str(path), "train", first_row=0)
    assert [line for _, line, _ in data.records()] == [1, 2]
    path.write_text('{"prompt": "a", "completion": "b"}\n{"prompt": "X", "completion": "d"}\n')
    with _pytest.raises(DatasetLoadError, match="changed while it was being audited"):
        list(data.records())


@pytest.mark.parametrize("read_bytes", [7, 64, 1 << 20])
def test_an_overlong_line_is_a_finding_and_is_not_held(tmp_path, monkeypatch, read_bytes):
    import auditor.input.blocks as blocks_module
    from auditor.input.dataset import load_dataset
    from auditor.input.limits import InputLimits

    monkeypatch.setattr(blocks_module, "_READ_BYTES", read_bytes)
    long = '{"prompt": "' + "x" * 300 + '", "completion": "y"}'
    path = tmp_path / "t.jsonl"
    path.write_text('{"prompt": "a", "completion": "b"}\n' + long + '\n{"prompt": "c", "completion": "d"}\n' + long)
    data = load_dataset(str(path), "train", first_row=0, limits=InputLimits(max_line_bytes=50))
    assert data.lines == 4 and data.frame["valid"].to_list() == [True, False, True, False]
    reasons = {i.line: i.message for i in data.issues}
    assert reasons[2] == reasons[4] == (f"line of {len(long):,} bytes, longer than the 50 bytes read "
                                        "(max_line_bytes): not read")
    assert data.frame["prompt"].to_list()[2] == "c"
    assert [line for _, line, _ in data.records()] == [1, 3]  # read again with the same limit
    assert load_dataset(str(path), "train").frame["valid"].to_list() == [True] * 4  # the default limit: 64 MiB


def test_a_gzip_that_expands_beyond_max_expansion_is_refused(tmp_path, monkeypatch):
    import auditor.input.loading as loading_module
    from auditor.input.limits import InputLimits

    monkeypatch.setattr(loading_module, "EXPANSION_ALLOWANCE", 10_000)
    path = tmp_path / "bomb.jsonl.gz"
    path.write_bytes(gzip.compress(b"\n" * 200_000))  # 200,000 blank lines in a few hundred bytes
    with pytest.raises(DatasetLoadError, match=r"bomb.jsonl.gz: decompresses to over 200x its size"):
        load_dataset(str(path), "train")
    with pytest.raises(DatasetLoadError, match="over 200x"):
        list(SourceFile(str(path)).lines())
    small = tmp_path / "repetitive.jsonl.gz"
    small.write_bytes(gzip.compress(CHAT * 20 + b"\n"))  # expands more than 200x, but under the allowance
    assert load_dataset(str(small), "train").lines == 1
    lifted = load_dataset(str(path), "train", limits=InputLimits(max_expansion=0))
    assert lifted.lines == 200_000 and len(lifted.issues) == 200_000


def test_runs_of_copies_are_parsed_once_and_read_back_row_by_row(tmp_path):
    a = b'{"prompt": "first question", "completion": "first answer"}'
    b = b'{"prompt": "second question", "completion": "second answer"}'
    lines = [a] * 3 + [b, b, b"{broken", b"{broken", a]
    path = tmp_path / "copies.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    frame = load_dataset(str(path), "train").frame
    assert frame["prompt"].to_list() == ["first question"] * 3 + ["second question"] * 2 + [None, None,
                                                                                           "first question"]
    assert frame["valid"].to_list() == [True] * 5 + [False, False, True]
    assert frame["line"].to_list() == list(range(1, 9)) and frame["row"].to_list() == list(range(8))
    assert frame["error"][5] is not None and frame["error"][5] == frame["error"][6]


def _messy_lines(n):
    """Chat rows with every kind of line a loader must keep exact: broken JSON, blanks, a minority
    format, an unrecognized record, CRLF line ends, and runs of copies."""
    import json

    lines = []
    for i in range(n):
        if i % 97 == 5:
            lines.append(b"{broken " + str(i).encode())
        elif i % 89 == 7:
            lines.append(b"")
        elif i % 83 == 3:
            lines.append(json.dumps({"prompt": f"p{i}", "completion": "c"}).encode())
        elif i % 79 == 2:
            lines.append(json.dumps({"whatever": i}).encode())
        elif i % 50 < 3:
            lines.append(json.dumps({"messages": [{"role": "user", "content": "same"},
                                                  {"role": "assistant", "content": "same"}]}).encode())
        else:
            lines.append(json.dumps({"messages": [{"role": "user", "content": f"question {i} é"},
                                                  {"role": "assistant", "content": f"answer {i}"}]}).encode()
                         + (b"\r" if i % 7 == 0 else b""))
    return b"\xef\xbb\xbf" + b"\n".join(lines) + b"\n"


def _loaded(path, **options):
    data = load_dataset(str(path), "train", **options)
    return data.frame, [(i.line, i.code, i.message) for i in data.issues], data.formats, data.sha256


@pytest.mark.parametrize("options", [{}, {"fmt": "chat"}, {"fields": {"prompt": "q", "response": "a"}}])
def test_a_large_file_parsed_by_worker_processes_loads_exactly_as_in_process(tmp_path, monkeypatch, options):
    import json

    import auditor.input.blocks as blocks_module
    import auditor.input.dataset as dataset_module

    monkeypatch.setattr(blocks_module, "BLOCK_MIN", 20)  # many blocks, several in flight at once
    monkeypatch.setattr(blocks_module, "BLOCK_MAX", 200)
    monkeypatch.setattr(blocks_module, "BLOCK_SPREAD", 32)
    path = tmp_path / "train.jsonl"
    if "fields" in options:
        path.write_bytes(b"\n".join(json.dumps({"q": f"q{i}", "a": f"a{i}"} if i % 13 else {"q": i}).encode()
                                    for i in range(3000)) + b"\n")
    else:
        path.write_bytes(_messy_lines(3000))
    local = _loaded(path, **options)
    from auditor import workers

    used = []
    real = workers.pool()

    class Counting:  # the real pool, counting what it is given
        def submit(self, *args):
            used.append(args[0])
            return real.submit(*args)

    monkeypatch.setattr(dataset_module, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(workers, "pool", lambda: Counting())
    monkeypatch.setattr(dataset_module, "parse_block", lambda *a, **k: pytest.fail("parsed in-process"))
    frame, issues, formats, sha = _loaded(path, **options)
    assert len(used) > 15 and set(used) == {dataset_module.parse_block_as}  # every block went to the workers
    assert frame.equals(local[0]) and (issues, formats, sha) == local[1:]
    assert issues  # the messy lines are all there, at their lines


def test_when_the_workers_break_the_rest_of_the_file_is_parsed_in_process(tmp_path, monkeypatch):
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    import auditor.input.blocks as blocks_module
    import auditor.input.dataset as dataset_module
    from auditor import workers

    monkeypatch.setattr(blocks_module, "BLOCK_MIN", 20)
    monkeypatch.setattr(blocks_module, "BLOCK_MAX", 200)
    monkeypatch.setattr(blocks_module, "BLOCK_SPREAD", 32)
    path = tmp_path / "train.jsonl"
    path.write_bytes(_messy_lines(2000))
    local = _loaded(path)

    class Dying:  # a pool whose workers died: every future fails as ProcessPoolExecutor's do
        def submit(self, *args):
            future = Future()
            future.set_exception(BrokenProcessPool("a worker died"))
            return future

    monkeypatch.setattr(dataset_module, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(workers, "pool", lambda: Dying())
    broken = []
    monkeypatch.setattr(workers, "broken", lambda: broken.append(1))
    frame, *rest = _loaded(path)
    assert broken and frame.equals(local[0]) and rest == list(local[1:])


def test_an_edited_line_of_a_large_cached_file_is_parsed_in_process_without_starting_workers(tmp_path, monkeypatch):
    import auditor.input.blocks as blocks_module
    import auditor.input.dataset as dataset_module
    from auditor import workers
    from auditor.store import open_cache

    monkeypatch.setattr(blocks_module, "BLOCK_MIN", 20)
    monkeypatch.setattr(blocks_module, "BLOCK_MAX", 200)
    monkeypatch.setattr(blocks_module, "BLOCK_SPREAD", 32)
    monkeypatch.setattr(dataset_module, "PARALLEL_BYTES", 0)  # every file is "large"
    path = tmp_path / "train.jsonl"
    path.write_bytes(_messy_lines(2000))
    cache = open_cache(tmp_path / "cache")
    _loaded(path, cache=cache)  # cold: parsed by the workers
    cache.flush()
    lines = path.read_bytes().split(b"\n")
    lines[700] = b'{"messages": [{"role": "user", "content": "edited"}, {"role": "assistant", "content": "ok"}]}'
    path.write_bytes(b"\n".join(lines))
    monkeypatch.setattr(workers, "pool", lambda: pytest.fail("workers started for an edit"))
    edited = _loaded(path, cache=cache)
    monkeypatch.undo()
    fresh = _loaded(path)
    assert edited[0].equals(fresh[0]) and edited[1:] == fresh[1:]
