"""JSONL -> (line, record | error) as a stream: every physical line is accounted for, nothing aborts."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import orjson

from .errors import DatasetLoadError

BOM = b"\xef\xbb\xbf"
GZIP_MAGIC = b"\x1f\x8b"
_SNIFF_BYTES = 8192


@dataclass(frozen=True, slots=True)
class RawLine:
    """One physical line: the parsed object, or why it could not be used."""

    line: int
    record: dict[str, Any] | None
    error: str | None = None
    warning: str | None = None  # usable, but worth telling (e.g. a byte-order mark)


# Lines longer than this are not held in memory: a finding says how long they were.
MAX_LINE_BYTES = 64 << 20
_OVERLONG = b"\x00auditor-overlong-line:"


def overlong_line(size: int) -> bytes:
    """What stands for a line of `size` bytes that was too long to keep."""
    return _OVERLONG + str(size).encode()


def parse_line(raw: bytes, line: int) -> RawLine:
    """Parse one line (without its line end) into a record or an error that says why."""
    if raw.startswith(_OVERLONG) and raw[len(_OVERLONG):].isdigit():
        size = int(raw[len(_OVERLONG):])
        return RawLine(line, None, f"line of {size:,} bytes, longer than the {MAX_LINE_BYTES:,} bytes read: not read")
    warning = None
    if line == 1 and raw.startswith(BOM):
        raw = raw[len(BOM) :]
        warning = "byte-order mark at the start of the file (ignored; many trainers reject it)"
    if not raw.strip():
        return RawLine(line, None, "blank line")
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return RawLine(line, None, _explain_invalid(raw, exc))
    if not isinstance(value, dict):
        return RawLine(line, None, f"JSON value is {_json_kind(value)}, not an object", warning)
    return RawLine(line, value, None, warning)


_ORJSON_POSITION = re.compile(r":\s*line \d+ column (\d+) \(char \d+\)$")


def _explain_invalid(raw: bytes, error: Exception) -> str:
    # orjson is fast but terse; the stdlib parser says what was expected, where. Where the stdlib
    # accepts what orjson refuses (NaN, 1e400, a lone surrogate: no trainer reads them) or gives up
    # (an integer of 4,300+ digits, deep nesting), orjson's own reason is the one to give.
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"invalid UTF-8 at byte {exc.start + 1}"
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        reason = exc.msg[0].lower() + exc.msg[1:]
        # "Unterminated string starting at" already ends with the preposition
        return f"invalid JSON: {reason.removesuffix(' at')} at column {exc.colno}"
    except (ValueError, RecursionError):
        pass
    message = str(error)
    found = _ORJSON_POSITION.search(message)
    reason = message[:found.start()] if found else message
    if reason.startswith("depth limit exceeded"):
        return "invalid JSON: nested more than 1024 levels deep"
    where = f" at column {found.group(1)}" if found else ""
    return f"invalid JSON: {reason[:200]}{where}"


def _json_kind(value: Any) -> str:
    kinds = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return "null" if value is None else kinds.get(type(value), type(value).__name__)


def iter_lines(stream: IO[bytes], wanted: set[int] | None = None) -> Iterator[RawLine]:
    """Parse a binary stream line by line (only the `wanted` line numbers, when given); CRLF and a final
    line without newline are handled."""
    number = 0
    while True:
        raw = stream.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):  # overlong: drain it, keep its size
            size = len(raw)
            while raw and not raw.endswith(b"\n"):
                raw = stream.readline(MAX_LINE_BYTES + 1)
                size += len(raw)
            raw = overlong_line(size - raw.endswith(b"\n"))
        if wanted is None or number in wanted:
            yield parse_line(raw.rstrip(b"\r\n"), number)


class SourceFile:
    """An input file opened for streaming, transparently gunzipped, with its SHA-256 computed as read."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.sha256: str | None = None
        self._check_readable()

    def _check_readable(self) -> None:
        if not os.path.exists(self.path):
            raise DatasetLoadError(f"{self.path}: file not found")
        if os.path.isdir(self.path):
            raise DatasetLoadError(f"{self.path}: is a directory, expected a JSONL file")
        if not os.path.isfile(self.path):  # a pipe or a device: read more than once, it would hang or lose lines
            raise DatasetLoadError(f"{self.path}: is not a regular file (a pipe or a device); save it to a file first")
        try:
            with open(self.path, "rb") as handle:
                head = handle.read(_SNIFF_BYTES)
        except OSError as exc:
            raise DatasetLoadError(f"{self.path}: cannot read: {exc.strerror or exc}") from None
        self.compressed = head.startswith(GZIP_MAGIC)
        if not self.compressed and _looks_binary(head):
            raise DatasetLoadError(f"{self.path}: looks like a binary file, not JSONL text")

    def lines(self, wanted: set[int] | None = None) -> Iterator[RawLine]:
        digest = hashlib.sha256()
        try:
            with open(self.path, "rb") as handle:
                stream = _HashingReader(handle, digest)
                if self.compressed:
                    with gzip.GzipFile(fileobj=stream) as unzipped:  # type: ignore[arg-type]
                        yield from iter_lines(unzipped, wanted)
                else:
                    yield from iter_lines(stream, wanted)  # type: ignore[arg-type]
        except (OSError, EOFError, zlib.error) as exc:
            raise DatasetLoadError(f"{self.path}: cannot read: {exc}") from None
        self.sha256 = digest.hexdigest()


class _HashingReader:
    """A read-through wrapper that feeds every byte read into a digest (no second pass over the file)."""

    def __init__(self, handle: IO[bytes], digest: Any) -> None:
        self._handle = handle
        self._digest = digest

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self._digest.update(data)
        return data

    def readline(self, size: int = -1) -> bytes:
        data = self._handle.readline(size)
        self._digest.update(data)
        return data

    def __iter__(self) -> Iterator[bytes]:
        for data in self._handle:
            self._digest.update(data)
            yield data


def _looks_binary(head: bytes) -> bool:
    """A start with NUL bytes that is not UTF-8 text and not mostly JSON lines: an image, an archive, a
    model file. A text file whose lines hold NULs is text: its odd lines are findings, not a refusal."""
    if not head or b"\x00" not in head:
        return False
    try:
        head.decode("utf-8")
        return False  # NUL is valid UTF-8: a text file with odd lines
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # only a character cut at the end of the sniffed bytes
            return False
    lines = [ln.strip().removeprefix(BOM) for ln in head.split(b"\n") if ln.strip()]
    jsonish = sum(1 for ln in lines if ln[:1] in (b"{", b"["))
    return jsonish * 2 < len(lines)
