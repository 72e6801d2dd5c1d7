"""A persistent memo of expensive answers about single texts (such as their language), keyed by content.

Per-file artefacts suit work that covers every row; a check that judges a seeded sample of rows, or
whose answer for a text does not depend on its neighbours, is better served by a memo: an edited
dataset re-judges only the texts it has not seen. The memo lives in the audit's cache directory and
follows its rules: atomic writes, a checksum, and a damaged or foreign file is simply ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

MAGIC = b"AUDITOR-MEMO\x00\x01"
FRAME_MAGIC = b"AUDITOR-MEMO\x00\x02"  # a FrameMemo: the payload is a frame as the cache stores frames
MAX_ENTRIES = 2_000_000  # beyond this the oldest answers are dropped


def text_key(text: str) -> int:
    """The content key of a text: xxh3-64 of its UTF-8 bytes."""
    import xxhash

    return xxhash.xxh3_64_intdigest(text.encode("utf-8", "surrogatepass"))


class TextMemo:
    """Answers (JSON values) by text key, loaded from and saved to one file; in memory only without one."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._answers: dict[int, Any] = self._load() if path is not None else {}

    @staticmethod
    def key(text: str) -> int:
        """The key of a text's answer (see `text_key`)."""
        return text_key(text)

    def __len__(self) -> int:
        return len(self._answers)

    def get(self, keys: Sequence[int]) -> list[Any]:
        """The remembered answer of every key, or None where there is none."""
        return [self._answers.get(key) for key in keys]

    def put(self, items: Iterable[tuple[int, Any]]) -> None:
        """Remember new answers and save them (atomically) when the memo has a file."""
        items = list(items)
        for key, answer in items:
            self._answers.pop(key, None)  # re-inserted last: dicts keep insertion order, newest last
            self._answers[key] = answer
        if len(self._answers) > MAX_ENTRIES:
            for key in list(self._answers)[: len(self._answers) - MAX_ENTRIES]:
                del self._answers[key]
        if items and self.path is not None:
            self._save()

    def _load(self) -> dict[int, Any]:
        import orjson
        import xxhash

        from .entries import CacheMiss, read_entry

        try:
            blob = read_entry(self.path)  # type: ignore[arg-type]  # a regular file, never a link or a pipe
            if not blob.startswith(MAGIC):
                return {}
            checksum, payload = blob[len(MAGIC):len(MAGIC) + 16], blob[len(MAGIC) + 16:]
            if xxhash.xxh3_128_digest(payload) != checksum:
                return {}
            return dict(orjson.loads(payload))  # [key, answer] pairs, keys written as JSON integers
        except (CacheMiss, OSError, ValueError, TypeError):
            return {}

    def _save(self) -> None:
        import orjson
        import xxhash

        from .entries import atomic_write

        if self.path is None:
            return
        payload = orjson.dumps(list(self._answers.items()))  # tuples are written as JSON arrays
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path, MAGIC + xxhash.xxh3_128_digest(payload), payload)
        except OSError:  # a memo that cannot be saved only costs time next run
            self.path = None


class FrameMemo:
    """Answers as the rows of one polars frame: a `key` column (`text_key` of each text) and the answer's
    columns, `schema`. Looked up with a join and merged column by column, so a memo of tens of thousands
    of answers loads in milliseconds (a JSON memo of 44,000 language answers took ~60 ms to parse) and
    its answers reach a check's frame without one Python object per text. Saved like a cache entry
    (atomically, with a checksum); a damaged file, or one written with other columns, is ignored."""

    def __init__(self, path: Path | None, schema: dict[str, Any]) -> None:
        import polars as pl

        self.path = path
        self.schema = pl.Schema({"key": pl.UInt64, **schema})
        self._frame = self._load() if path is not None else None
        if self._frame is None:
            self._frame = pl.DataFrame(schema=self.schema)

    @staticmethod
    def keys(texts: Any) -> Any:
        """The key of each text of a String Series, as a UInt64 Series: polars' own hash on both cores,
        stable within one polars version (the memo's file is named per version, see `AuditContext.memo`)."""
        import polars as pl

        return texts.hash(seed=0x5EED).cast(pl.UInt64).rename("key")

    def __len__(self) -> int:
        return self._frame.height

    def lookup(self, keys: Any) -> Any:
        """One row per key, in their order: `key` and the remembered answer, null where there is none."""
        import polars as pl

        wanted = pl.DataFrame({"key": keys}, schema={"key": pl.UInt64}).with_row_index("_at")
        # a left join keeps every key; sorted back by position, whatever order the join returns
        return wanted.join(self._frame, on="key", how="left").sort("_at").drop("_at")

    def put(self, answers: Any) -> None:
        """Remember new answers (a frame of `key` and the schema's columns) and save them when the memo has a file."""
        import polars as pl

        if answers.height == 0:
            return
        answers = answers.select(list(self.schema)).cast(dict(self.schema))
        kept = self._frame.filter(~pl.col("key").is_in(answers["key"].implode()))
        self._frame = pl.concat([kept, answers]).tail(MAX_ENTRIES)  # newest last: the oldest go first
        if self.path is not None:
            self._save()

    def _load(self) -> Any:
        import xxhash

        from .entries import CacheMiss, read_entry
        from .values import decode_value

        try:
            blob = read_entry(self.path)  # type: ignore[arg-type]  # a regular file, never a link or a pipe
            if not blob.startswith(FRAME_MAGIC):
                return None
            checksum, payload = blob[len(FRAME_MAGIC):len(FRAME_MAGIC) + 16], blob[len(FRAME_MAGIC) + 16:]
            if xxhash.xxh3_128_digest(payload) != checksum:
                return None
            frame = decode_value("frame", payload)
        except (CacheMiss, OSError, ValueError, TypeError):
            return None
        return frame if frame.schema == self.schema else None

    def _save(self) -> None:
        import xxhash

        from .entries import atomic_write
        from .values import encode_value

        _, payload = encode_value(self._frame)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)  # type: ignore[union-attr]
            atomic_write(self.path, FRAME_MAGIC + xxhash.xxh3_128_digest(payload), payload)
        except OSError:  # a memo that cannot be saved only costs time next run
            self.path = None
