"""JSONL -> (line, record | error) as a stream: every physical line is accounted for, nothing aborts."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import orjson

from ..errors import DatasetLoadError
from .limits import DEFAULT_LIMITS, DEFAULT_MAX_LINE_BYTES, EXPANSION_ALLOWANCE, InputLimits

BOM = b"\xef\xbb\xbf"
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"  # a Zstandard frame: read with the `zstandard` package (the zstd extra)
_ZSTD_CHUNK = 2048  # at most ~64 MiB of zeros once decompressed
_SNIFF_BYTES = 8192


@dataclass(frozen=True, slots=True)
class RawLine:
    """One physical line: the parsed object, or why it could not be used."""

    line: int
    record: dict[str, Any] | None
    error: str | None = None
    warning: str | None = None  # usable, but worth telling (e.g. a byte-order mark)


_OVERLONG = b"\x00auditor-overlong-line:"


def overlong_line(size: int, limit: int) -> bytes:
    """What stands for a line of `size` bytes that was longer than the `limit` read."""
    return _OVERLONG + f"{size}:{limit}".encode()


def parse_line(raw: bytes, line: int) -> RawLine:
    """Parse one line (without its line end) into a record or an error that says why."""
    if raw.startswith(_OVERLONG):
        size, _, limit = raw[len(_OVERLONG):].partition(b":")
        if size.isdigit() and limit.isdigit():
            return RawLine(line, None, f"line of {int(size):,} bytes, longer than the {int(limit):,} bytes read "
                                       "(max_line_bytes): not read")
    warning = None
    if line == 1 and raw.startswith(BOM):
        raw = raw[len(BOM) :]
        warning = "byte-order mark at the start of the file (ignored; many trainers reject it)"
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:  # a blank line is no JSON either: told apart only here, where rare
        return RawLine(line, None, "blank line" if not raw.strip() else _explain_invalid(raw, exc))
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


def iter_lines(stream: IO[bytes], wanted: set[int] | None = None, *,
               max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> Iterator[RawLine]:
    """Parse a binary stream line by line (only the `wanted` line numbers, when given); CRLF and a final
    line without newline are handled; lines over `max_line_bytes` are drained, never held."""
    number = 0
    limit = max_line_bytes
    while True:
        raw = stream.readline(limit + 1)
        if not raw:
            return
        number += 1
        if len(raw) > limit and not raw.endswith(b"\n"):  # overlong: drain it, keep its size
            size = len(raw)
            while raw and not raw.endswith(b"\n"):
                raw = stream.readline(limit + 1)
                size += len(raw)
            raw = overlong_line(size - raw.endswith(b"\n"), limit)
        if wanted is None or number in wanted:
            yield parse_line(raw.rstrip(b"\r\n"), number)


class SourceFile:
    """An input file opened for streaming, transparently gunzipped, with its SHA-256 computed as read."""

    def __init__(self, path: str, limits: InputLimits = DEFAULT_LIMITS, *, follow: Any = None) -> None:
        self.path = path
        self.limits = limits
        self.sha256: str | None = None
        self.follow = follow  # a readers.BackgroundSpool still writing the file: read it as it grows
        self._check_readable()

    @property
    def plain(self) -> bool:
        """Whether the file's bytes are its text as they lie (not compressed, not still being written)."""
        return not (self.compressed or self.zstd or self.follow is not None)

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
        self.zstd = head.startswith(ZSTD_MAGIC)
        if self.zstd:
            try:
                import zstandard  # noqa: F401
            except ImportError:
                raise DatasetLoadError(f"{self.path}: Zstandard-compressed; install the zstd extra to read it "
                                       "(pip install 'dataset-auditor[zstd]'), or decompress it first") from None
        elif not self.compressed and _looks_binary(head):
            raise DatasetLoadError(f"{self.path}: looks like a binary file, not JSONL text")

    def lines(self, wanted: set[int] | None = None) -> Iterator[RawLine]:
        digest = hashlib.sha256()
        try:
            with open(self.path, "rb") as handle:
                yield from iter_lines(self.stream(handle, digest), wanted,  # type: ignore[arg-type]
                                      max_line_bytes=self.limits.max_line_bytes)
        except (OSError, EOFError, zlib.error) as exc:
            raise DatasetLoadError(f"{self.path}: cannot read: {exc}") from None
        self.sha256 = digest.hexdigest()

    def stream(self, handle: IO[bytes], digest: Any = None) -> Any:
        """The file's text bytes from `handle`: gunzipped (within `max_expansion`) when compressed;
        `digest` gets the bytes as stored."""
        reader = _HashingReader(handle if self.follow is None else self.follow.reader(handle), digest)
        if self.zstd:
            import zstandard

            unzipped = io.BufferedReader(_ZstdFrames(reader, zstandard.ZstdDecompressor()), buffer_size=1 << 20)
            return _BoundedStream(unzipped, reader, self.path, self.limits.max_expansion)
        if not self.compressed:
            return reader
        return _BoundedStream(gzip.GzipFile(fileobj=reader), reader, self.path, self.limits.max_expansion)


class BackgroundSha256:
    """A SHA-256 of bytes as they are read, computed on a second thread: hashlib releases the GIL on
    large updates, so hashing a file overlaps with splitting and parsing it rather than adding to it
    (~60 ms per 60 MB). Updates are applied in the order given; `hexdigest` waits for them."""

    def __init__(self) -> None:
        self._digest = hashlib.sha256()
        self._hasher: Any = None
        self._last: Any = None

    def update(self, data: bytes) -> None:
        if len(data) < 1 << 16 and self._hasher is None:
            self._digest.update(data)
            return
        if self._hasher is None:
            from concurrent.futures import ThreadPoolExecutor

            self._hasher = ThreadPoolExecutor(1, thread_name_prefix="auditor-sha256")
        self._last = self._hasher.submit(self._digest.update, data)  # one thread: in order

    def hexdigest(self) -> str:
        if self._hasher is not None:
            self._hasher.shutdown(wait=True)
            self._hasher = None
            if self._last is not None:
                self._last.result()
        return self._digest.hexdigest()


class _HashingReader:
    """A read-through wrapper that feeds every byte read into a digest (no second pass over the file)
    and counts them."""

    def __init__(self, handle: IO[bytes], digest: Any = None) -> None:
        self._handle = handle
        self._digest = digest
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        return self._seen(self._handle.read(size))

    def readline(self, size: int = -1) -> bytes:
        return self._seen(self._handle.readline(size))

    def _seen(self, data: bytes) -> bytes:
        if self._digest is not None:
            self._digest.update(data)
        self.count += len(data)
        return data


class _ZstdFrames(io.RawIOBase):
    """The decompressed bytes of every Zstandard frame of `raw`, one after the other. A file that ends
    inside a frame is an error, not a short read: a cut download must not audit as fewer lines.

    Compressed bytes go in by `_ZSTD_CHUNK`: what one chunk can expand to (a block of zeros is 4 bytes
    for 128 KiB) is held at once, before the expansion limit can look at it.
    """

    def __init__(self, raw: Any, decompressor: Any) -> None:
        self._raw = raw
        self._decompressor = decompressor
        self._frame = decompressor.decompressobj()
        self._pending = b""
        self._offset = 0
        self._started = False  # the current frame has received bytes

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._offset >= len(self._pending):
            self._pending, self._offset = b"", 0
        while not self._pending:
            chunk = self._raw.read(_ZSTD_CHUNK)
            if not chunk:
                if self._started and not self._frame.eof:
                    raise OSError("the file ends inside a Zstandard frame (truncated)")
                return 0
            while chunk:
                self._started = True
                self._pending += self._frame.decompress(chunk)
                chunk = b""
                if self._frame.eof:  # the next frame, if any, starts in what this one left
                    chunk = self._frame.unused_data
                    self._frame = self._decompressor.decompressobj()
                    self._started = False
        size = min(len(buffer), len(self._pending) - self._offset)
        buffer[:size] = memoryview(self._pending)[self._offset:self._offset + size]
        self._offset += size
        return size


class _BoundedStream:
    """A decompressed (gzip or Zstandard) stream that stops, with a one-line error, once it has expanded more than
    `max_expansion` times the compressed bytes read (beyond EXPANSION_ALLOWANCE): a gzip bomb of
    zeros or of blank lines costs seconds, not an audit that never ends."""

    def __init__(self, unzipped: Any, raw: _HashingReader, path: str, max_expansion: int) -> None:
        self._unzipped = unzipped
        self._raw = raw
        self._path = path
        self._max = max_expansion
        self._out = 0

    def read(self, size: int = -1) -> bytes:
        try:
            return self._check(self._unzipped.read(size))
        except (DatasetLoadError, OSError, EOFError, zlib.error):
            raise
        except Exception as exc:  # zstandard.ZstdError on damaged data: read like a damaged gzip
            raise OSError(f"damaged compressed data: {exc}") from None

    def readline(self, size: int = -1) -> bytes:
        try:
            return self._check(self._unzipped.readline(size))
        except (DatasetLoadError, OSError, EOFError, zlib.error):
            raise
        except Exception as exc:
            raise OSError(f"damaged compressed data: {exc}") from None

    def _check(self, data: bytes) -> bytes:
        self._out += len(data)
        if self._max and self._out > EXPANSION_ALLOWANCE and self._out > self._max * max(self._raw.count, 1):
            raise DatasetLoadError(
                f"{self._path}: decompresses to over {self._max}x its size ({self._out:,} bytes from "
                f"{self._raw.count:,} read): a decompression bomb, or a file of copies? (max_expansion, 0 lifts it)")
        return data


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
