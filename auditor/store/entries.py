"""The cache directory as a store of entries: one file per key, written atomically, checked on read.

Every entry is one file written to a temporary name and moved into place with os.replace (atomic), and
carries its own key and a checksum of its payload: a truncated, corrupted or foreign entry is ignored,
deleted and rebuilt. Nothing here is ever fatal; a store that cannot be written just stops storing.
Entries are read only from regular files inside the directory, so a FIFO, a device or a link planted
there is a miss, never a hang or a read elsewhere.
"""

from __future__ import annotations

import os
import struct
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import orjson
import xxhash

from .values import decode_value, encode_value, value_kind

CACHE_DIR_NAME = ".auditor_cache"
LAYOUT = 1
MAGIC = b"AUDITOR-CACHE\x00\x01"
MAX_BYTES = 1 << 30  # least recently used entries are removed beyond this
_HASH_CHUNK = 1 << 20
_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# This directory is a cache of dataset-auditor.\n"


class CacheMiss(Exception):
    """An entry that is absent, stale or damaged: rebuild it."""


def default_cache_dir(config_source: str | None) -> Path:
    """Next to the config file when there is one, else in the working directory."""
    if config_source and os.path.isfile(config_source):
        return Path(config_source).resolve().parent / CACHE_DIR_NAME
    return Path.cwd() / CACHE_DIR_NAME


def open_cache(directory: str | os.PathLike[str]) -> Cache | None:
    """The cache in `directory`, created with its .gitignore; None (no caching) when it cannot be."""
    root = Path(directory)
    try:
        (root / f"v{LAYOUT}").mkdir(parents=True, exist_ok=True)
        if not (root / ".gitignore").is_file():
            atomic_write(root / ".gitignore", b"# Created by dataset-auditor\n*\n")
        if not (root / "CACHEDIR.TAG").is_file():
            atomic_write(root / "CACHEDIR.TAG", _TAG.encode())
    except OSError:
        return None
    return Cache(root)


def file_digest(path: str) -> str:
    """xxh3_128 of a file's bytes (compressed bytes for .gz)."""
    digest = xxhash.xxh3_128()
    with open(path, "rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class Cache:
    """The entries of one cache directory, stored and fetched by name (`<key>.<kind>`): values (numpy
    arrays, polars Series and DataFrames, JSON lists; see auditor.store.values) or raw payloads.

    `hits` and `misses` count what the callers were served; `writes` the entries written.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.entries = self.root / f"v{LAYOUT}"
        self.hits = 0
        self.misses = 0
        self.writes = 0
        self._digests: dict[str, tuple[tuple[int, int], str]] = {}
        self._broken = False
        self.opened_ns = time.time_ns() - 2 * 10**9  # entries used since (mtime, coarse on some file systems)
        self._writer: Any = None  # a one-thread executor for background writes, started by the first one
        self._starting = threading.Lock()
        self._pending: list[Any] = []

    def content_digest(self, path: str) -> str:
        """The digest of a file's bytes, hashed once per audit while its size and mtime stay the same."""
        stamp = _stamp(path)
        memo = self._digests.get(path)
        if memo is None or memo[0] != stamp:
            memo = self._digests[path] = (stamp, file_digest(path))
        return memo[1]

    # ------------------------------------------------------------------ values

    def get_value(self, name: str, *, count: bool = True) -> tuple[dict[str, Any], Any] | None:
        """(header, value) of an entry, or None when it is absent or damaged."""
        try:
            header, payload = self.read(name)
            value = decode_value(header["type"], payload)
        except (CacheMiss, KeyError, TypeError):
            if count:
                self.misses += 1
            return None
        if count:
            self.hits += 1
        return header, value

    def put_value(self, name: str, value: Any, header: dict[str, Any] | None = None, *,
                  background: bool = False) -> None:
        """Store a value; in the `background` the encoding and writing run on a second thread (polars
        compresses and the disk writes while the checks go on) until `flush`."""
        kind = value_kind(value)  # a value of the wrong type fails with and without a cache
        if self._broken:
            return
        header = header or {}
        if background:
            if kind == "ndarray":
                value = value.copy()  # arrays are mutable: write what was built, whatever a check does next
            with self._starting:  # checks on two threads share one writer
                if self._writer is None:
                    from concurrent.futures import ThreadPoolExecutor

                    self._writer = ThreadPoolExecutor(1, thread_name_prefix="auditor-cache")
                self._pending.append(self._writer.submit(self._encode_and_write, name, header, value))
            return
        try:
            self._encode_and_write(name, header, value, quiet=False)
        except TypeError:
            if kind == "ndarray":
                raise  # an object array: the value itself is wrong
            self._broken = True
        except Exception:
            self._broken = True

    def _encode_and_write(self, name: str, header: dict[str, Any], value: Any, *, quiet: bool = True) -> None:
        try:
            kind, payload = encode_value(value)
            self.write(name, {**header, "type": kind}, payload)
        except Exception:  # a cache that cannot be written must not stop the audit
            if not quiet:
                raise
            self._broken = True

    def flush(self) -> None:
        """Wait until every entry handed to the background writer is on disk."""
        pending, self._pending = self._pending, []
        for future in pending:
            future.result()
        if self._writer is not None:
            self._writer.shutdown(wait=True)
            self._writer = None

    # ------------------------------------------------------------------ raw entries

    def read(self, name: str) -> tuple[dict[str, Any], memoryview]:
        """(header, payload) of the entry `name`; CacheMiss when it is absent, damaged or not bound to its key.

        An entry is MAGIC, u32 header length, header JSON, payload; the header names its key (the
        name's stem) and the payload's checksum.
        """
        entry = self.entries / name
        key = entry.stem
        blob = read_entry(entry, mapped=True)
        try:
            if blob[: len(MAGIC)] != MAGIC:
                raise ValueError("not a cache entry")
            (length,) = struct.unpack_from("<I", blob, len(MAGIC))
            start = len(MAGIC) + 4
            header = orjson.loads(blob[start : start + length])
            payload = memoryview(blob)[start + length :]
            if (not isinstance(header, dict) or header.get("key") != key
                    or header.get("size") != len(payload) or header.get("xxh3") != _checksum(key, payload)):
                raise ValueError("stale or damaged entry")
        except (ValueError, struct.error, orjson.JSONDecodeError):
            _remove(entry)
            raise CacheMiss from None
        try:
            os.utime(entry)  # recently used: pruned last
        except OSError:
            pass
        return header, payload

    def write(self, name: str, header: dict[str, Any], payload: bytes | memoryview) -> None:
        """Write the entry `name` (atomically); failures are the caller's to absorb."""
        key = Path(name).stem
        head = orjson.dumps({**header, "key": key, "size": len(payload), "xxh3": _checksum(key, payload)})
        atomic_write(self.entries / name, MAGIC + struct.pack("<I", len(head)) + head, payload)  # no payload copy
        self.writes += 1

    def write_quietly(self, name: str, header: dict[str, Any], payload: bytes) -> None:
        """`write`, where a failure only stops further writes."""
        if self._broken:
            return
        try:
            self.write(name, header, payload)
        except Exception:  # a cache that cannot be written must not stop the audit
            self._broken = True

    # ------------------------------------------------------------------ housekeeping

    def prune(self, max_bytes: int = MAX_BYTES) -> int:
        """Remove the least recently used entries beyond `max_bytes`; returns how many were removed.

        Entries this audit read or wrote are kept even beyond `max_bytes`: removing them would make the
        next run of the same audit start cold (a dataset whose entries outgrow the limit would never be
        served from the cache at all).
        """
        try:
            entries = []
            for item in os.scandir(self.entries):
                if item.is_file():
                    stat = item.stat()
                    entries.append((stat.st_mtime_ns, stat.st_size, item.path))
        except OSError:
            return 0
        total = sum(size for _, size, _ in entries)
        removed = 0
        for used, size, path in sorted(entries):
            if total <= max_bytes or used >= self.opened_ns:
                break
            try:
                os.remove(path)
            except OSError:
                continue
            total -= size
            removed += 1
        return removed


# Entries of at least this many bytes are mapped rather than read (see read_entry).
MAP_BYTES = 1 << 20


def read_entry(entry: Path, *, mapped: bool = False) -> bytearray | Any:
    """An entry's bytes, read only from a regular file inside the cache, no larger than the cache may be:
    a FIFO, a device or a link planted in the cache directory is a miss (and is removed), never a hang.

    `mapped`: a large entry is a private copy-on-write mapping of the file (mmap), not a copy read into
    fresh memory: its pages are the page cache's, shared until written (a numpy value served from
    it is still writable, and a write never reaches the file). Entries are replaced by a rename, never
    rewritten in place, so a mapping keeps the bytes it was checksummed with."""
    import stat

    try:
        fd = os.open(entry, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        if entry.is_symlink():
            _remove(entry)
        raise CacheMiss from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BYTES:
            _remove(entry)
            raise CacheMiss
        if mapped and info.st_size >= MAP_BYTES and os.name == "posix":
            import mmap

            try:
                return mmap.mmap(fd, info.st_size, access=mmap.ACCESS_COPY)
            except ValueError:  # it shrank since fstat: not what was written
                raise CacheMiss from None
        with os.fdopen(fd, "rb") as handle:
            fd = -1
            # read into a mutable buffer: a numpy value is then served from these bytes, without a copy
            blob = bytearray(info.st_size)
            got = handle.readinto(blob)
            if got < info.st_size:
                del blob[got:]
            elif handle.read(1):  # it grew while read: whatever it is, it is not what was checksummed
                raise CacheMiss
            return blob
    except OSError:
        raise CacheMiss from None
    finally:
        if fd >= 0:
            os.close(fd)


def atomic_write(path: Path, *chunks: Any) -> None:
    """Write `chunks` to `path` through a temporary file in the same folder and a rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
        os.replace(tmp, path)
    except BaseException:
        _remove(Path(tmp))
        raise


def _remove(path: Path) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


def _stamp(path: str) -> tuple[int, int]:
    stat = os.stat(path)
    return stat.st_size, stat.st_mtime_ns


def _checksum(key: str, payload: bytes | memoryview) -> str:
    """The entry's checksum covers its key (which holds the code fingerprint) as well as its payload:
    a payload moved under another key, or from another version of the code, does not verify."""
    digest = xxhash.xxh3_128(key.encode())
    digest.update(b"\0")
    digest.update(payload)
    return digest.hexdigest()
