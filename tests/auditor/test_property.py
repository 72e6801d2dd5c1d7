"""Thousands of generated broken inputs: never a traceback, every line is either a row or a finding."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.errors import DatasetLoadError
from auditor.input.dataset import load_dataset
from auditor.input.loading import GZIP_MAGIC, ZSTD_MAGIC, _looks_binary
from auditor.input.normalize import NORMALIZERS, detect_format

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
FIELDS = ["messages", "role", "content", "tool_calls", "weight", "prompt", "completion", "instruction", "input",
          "output", "text", "label", "conversations", "from", "value", "chosen", "rejected", "system", "tools"]


def shaped_record():
    """Records that look like a known format but hold wrong types anywhere."""
    message = st.dictionaries(st.sampled_from(["role", "content", "tool_calls", "weight", "from", "value", "name"]),
                              st.sampled_from(["user", "assistant", "system", "tool", "gpt", "human", "bot"])
                              | JSON_VALUES, max_size=4)
    return st.dictionaries(st.sampled_from(FIELDS), st.lists(message, max_size=4) | JSON_VALUES, min_size=1,
                           max_size=5)


def broken_line():
    valid = shaped_record().map(lambda r: json.dumps(r).encode())
    return st.one_of(
        valid,
        valid.flatmap(lambda b: st.integers(0, max(len(b) - 1, 0)).map(lambda cut: b[:cut])),  # truncated
        st.binary(max_size=60).filter(lambda b: b"\n" not in b and b"\r" not in b),
        valid.map(lambda b: b.replace(b":", b":\x00", 1)),  # NUL byte
        valid.map(lambda b: b"\xef\xbb\xbf" + b),  # BOM (only meaningful on line 1)
        valid.map(lambda b: b[:5] + b"\xff\xfe" + b[5:]),  # invalid UTF-8
        st.integers(1, 3000).map(lambda n: b'{"a": ' + b"[" * n + b"]" * n + b"}"),  # deep nesting
        st.integers(1, 50).map(lambda n: b'{"text": "' + b"x" * (n * 4000) + b'", "label": 1}'),  # long line
        JSON_VALUES.map(lambda v: json.dumps(v).encode()),  # non-object JSON
        st.just(b""), st.just(b"   "),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(broken_line(), min_size=1, max_size=12), crlf=st.booleans())
def test_every_line_is_a_row_or_a_finding(tmp_path_factory, lines, crlf):
    path = tmp_path_factory.mktemp("prop") / "train.jsonl"
    content = (b"\r\n" if crlf else b"\n").join(lines) + b"\n"
    path.write_bytes(content)
    if content.startswith((GZIP_MAGIC, ZSTD_MAGIC)):
        # gzip's or Zstandard's magic number makes it a compressed file; a corrupt one is unreadable, said
        # in one line
        with pytest.raises(DatasetLoadError, match="cannot read|Zstandard"):
            load_dataset(str(path), "train")
        return
    if _looks_binary(content[:8192]):
        # A NUL-laden file that is mostly not JSON is refused whole, with one clear line (exit 2).
        with pytest.raises(DatasetLoadError, match="looks like a binary file"):
            load_dataset(str(path), "train")
        return
    data = load_dataset(str(path), "train")
    assert data.lines == len(lines)
    invalid = set(data.frame.filter(~data.frame["valid"])["line"].to_list())
    reported = {issue.line for issue in data.issues if issue.severity.value == "error" or issue.code == "AUD002"}
    assert invalid == reported


@settings(max_examples=2000, deadline=None)
@given(record=shaped_record(), fmt=st.sampled_from(sorted(NORMALIZERS)))
def test_normalizers_never_raise_and_explain_every_rejection(record, fmt):
    out = NORMALIZERS[fmt]
    from auditor.input.normalize import normalize_record

    result = normalize_record(record, fmt, out)
    for name in ("system", "prompt", "response", "label"):
        assert getattr(result, name) is None or isinstance(getattr(result, name), str)
    if not result.errors and fmt != "text-label":
        assert result.response is not None
    detect_format(record)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(lines=st.lists(broken_line(), min_size=1, max_size=8),
       evals=st.lists(broken_line(), min_size=0, max_size=4))
def test_a_whole_audit_of_broken_files_never_crashes_and_is_deterministic(tmp_path_factory, lines, evals):
    from auditor.cli import main

    folder = tmp_path_factory.mktemp("audit")
    good = json.dumps({"messages": [{"role": "user", "content": "hello there"},
                                    {"role": "assistant", "content": "hi"}]}).encode()
    (folder / "train.jsonl").write_bytes(b"\n".join([good, *lines]) + b"\n")
    args = ["audit", str(folder / "train.jsonl"), "--no-cache", "-q", "--report", "json"]
    if evals:
        (folder / "eval.jsonl").write_bytes(b"\n".join([good, *evals]) + b"\n")
        args += ["--eval", str(folder / "eval.jsonl")]
    reports = []
    for run in ("first", "second"):
        with pytest.raises(SystemExit) as exit_info:
            main([*args, "--output", str(folder / f"{run}.json")])
        assert exit_info.value.code in (0, 1, 2)
        path = folder / f"{run}.json"
        reports.append(path.read_bytes() if path.exists() else None)
    assert reports[0] == reports[1]  # the same input gives the same report bytes
    if reports[0] is not None:
        report = json.loads(reports[0])
        assert report["verdict"]["train_rows"] == 1 + len(lines)  # every physical line is accounted for
        assert all(r["status"] != "error" for r in report["results"]), [r["error"] for r in report["results"]]
