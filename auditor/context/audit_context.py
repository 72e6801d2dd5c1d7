"""The audit context handed to every check: the frames, the settings, and shared lazily built artefacts."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ..input.dataset import Dataset, LineIssue
from .text import join_normalized, matching_text, normalize_series, prompt_of_sides

T = TypeVar("T")
TEXT_PARTS = ("prompt", "input", "response", "system", "label", "tools")
# Rows a row-local per-file artefact is built for at a time (see `per_file`): what a build holds beside
# its value (a joined text, shingles, hash temporaries) is a slice's, not a million rows'.
BUILD_SLICE_ROWS = 131_072


@dataclass(slots=True)
class Settings:
    """Audit-wide settings every check may read."""

    seed: int = 1
    max_findings: int = 10_000
    task: str | None = None  # "structured", "classification", "free-text" or None (unknown)


@dataclass(frozen=True, slots=True)
class InputFile:
    """One input file as a check sees it: its rows are `rows` (row ids `first_row` .. `first_row + lines - 1`
    of `ctx.frame`, in line order: line n is row `first_row + n - 1`), and `issues` are the problems
    found while reading and normalizing its lines (what the `record-validity` role reports)."""

    path: str
    split: str
    format: str  # the file's dominant record format
    first_row: int
    lines: int
    issues: tuple[LineIssue, ...]

    @property
    def rows(self) -> range:
        return range(self.first_row, self.first_row + self.lines)


@dataclass
class AuditContext:
    """What a check sees. Frames hold one row per physical input line; most checks want `rows()`.

    Columns: row (unique id, what `excluded` refers to), split ("train"/"eval"), source (file path),
    line (1-based), format, valid, error, system, prompt (system + user side as one text), response
    (the training target: final assistant turn, completion, output), label, asked (the last user
    turn of a conversation whose prompt holds more turns than that one, else null), tool_call (the response is
    an assistant tool call, rendered as compact JSON, rather than text), tools (the record declares
    tools or functions, or a turn calls or answers one: what the `tool-calls` check reads).
    """

    datasets: list[Dataset]
    settings: Settings = field(default_factory=Settings)
    schema: dict[str, Any] | None = None
    _frame: Any = None
    # the artefact declarations (`Check.artefacts`) of the checks still to run, the running one
    # included, set by the engine: empty when unknown (a check that declares nothing)
    planned: frozenset[str] = frozenset()
    _shared: dict[Any, Any] = field(default_factory=dict)
    # checks may run on two threads (see engine.run_checks): an artefact is built once, by the first
    # that asks, while the others wait for it; `_guard` serializes the bookkeeping of `_building`
    _building: dict[Any, Any] = field(default_factory=dict)
    _guard: Any = field(default_factory=threading.Lock)
    _cache: Any = None  # auditor.store.Cache of this audit, or None (no caching)
    _files: tuple[InputFile, ...] | None = None
    # runs row-local per-file builders elsewhere (auditor.engines: `by_rows(build)`), or None: here
    _engine: Any = None

    def __reduce__(self):
        # A builder sent to another process (an engine's worker) takes its context along: what arrives
        # is the part a builder may use, the settings and the texts of the rows it is handed, never
        # the audit's frames.
        return RowsView, (self.settings,)

    @property
    def frame(self):
        """Every row of every file, valid or not."""
        if self._frame is None:
            import polars as pl

            self._frame = pl.concat([d.frame for d in self.datasets], rechunk=False)
        return self._frame

    def rows(self, split: str | None = None, *, source: str | None = None, valid_only: bool = True):
        """The valid rows of a split (or of one source file), with all columns."""
        import polars as pl

        frame = self.frame
        if valid_only:
            frame = frame.filter(pl.col("valid"))
        if split is not None:
            frame = frame.filter(pl.col("split") == split)
        if source is not None:
            frame = frame.filter(pl.col("source") == source)
        return frame

    @property
    def files(self) -> tuple[InputFile, ...]:
        """The input files, train files first, in the order of `ctx.frame`."""
        if self._files is None:
            self._files = tuple(InputFile(d.path, d.split, d.format, d.first_row, d.lines, tuple(d.issues))
                                for d in self.datasets)
        return self._files

    @property
    def has_eval(self) -> bool:
        return any(d.split == "eval" for d in self.datasets)

    def sources(self, split: str) -> list[str]:
        return [d.path for d in self.datasets if d.split == split]

    def records(self, split: str | None = None, rows=None) -> Iterator[tuple[int, str, int, dict[str, Any]]]:
        """(row, source, line, original record) of valid rows, for checks that need the raw structure.

        `rows` (row ids) limits the stream to those rows; other lines are read but not parsed.

        Records are streamed from the files again rather than kept in memory: at a million rows the
        original JSON would double the footprint of the normalized frame.
        """
        for data in self.datasets:
            if split is None or data.split == split:
                for row, line, record in data.records(None if rows is None else set(rows)):
                    yield row, data.path, line, record

    def shared(self, key: Any, build: Callable[[], T]) -> T:
        """Compute an artefact once per audit and hand the same object to every check that asks (a
        check asking while another thread builds it waits for that build)."""
        try:
            return self._shared[key]
        except KeyError:
            pass
        with self._guard:
            lock = self._building.setdefault(key, threading.RLock())
        with lock:  # builds ask only for what they are built from: no two wait on each other
            if key not in self._shared:
                self._shared[key] = build()
            return self._shared[key]

    def release(self, keep: frozenset[str] | set[str]) -> None:
        """Forget the artefacts of every family no check still to run declares (`Check.artefacts`). A
        family is the artefact's name ("text-keys"), and for `per_file` artefacts named by a text
        selection also "name:selection" ("text-keys:input"); `keep` names either. A forgotten artefact
        is rebuilt (or read from the cache) if asked for again."""
        # a selection's text is joined from its parts' texts where it is asked for (see `text`): keeping
        # it keeps them, and the prompt is made of its system text and its user side
        keep = set(keep) | {f"text:{side}" for family in keep if family.startswith("text:")
                            for part in family[len("text:"):].split("+")
                            for side in (("system", "input") if part == "prompt" else (part,))}
        with self._guard:
            for key in [k for k in list(self._shared) if isinstance(k, tuple)]:
                name, selection = _family(key)
                if name not in keep and (selection is None or f"{name}:{selection}" not in keep):
                    self._shared.pop(key, None)
                    self._building.pop(key, None)

    def normalized(self, column: str):
        """The matching form (NFKC, lower case, collapsed whitespace) of a text column, for all frame rows."""
        return self.per_file(("normalized", column), lambda frame: normalize_series(frame[column]))

    def text(self, spec: str):
        """Matching form of a text selection for all frame rows (index i = row i), "" where missing.

        `spec` joins parts with "+": `prompt` (the input side, system included), `input` (the input
        side without the system prompt: what the user wrote), `response`, `system`, `label`, `tools`
        (the functions offered, see `normalize.tool_signature`: part of an example's identity).

        Each part is normalized once per audit, and kept for it (`prompt` is made of `system` and
        `input`, see `prompt_of_sides`); a selection of several parts is joined from them where it is
        asked for and not kept, so a million rows hold each normalized text once. To compare texts
        for equality use `text_keys`, and to build a per-block artefact use `text_of`, so that an
        edited re-run normalizes the edited block only.
        """
        return self._selection(_parts(spec), self.frame, self._part)

    def _part(self, part: str):
        # Not persisted: normalizing is cheap next to reading back a copy of every text from disk, and
        # the texts would be most of the cache's size.
        # Kept here: the checks read these texts on this side, sending rows out for them buys nothing.
        return self.per_file(_text_artefact(part), lambda frame: matching_text(frame, [part]), persist=False,
                             remote=False)

    @staticmethod
    def _selection(parts: list[str], frame, part_text: Callable[[str], Any]):
        """The matching text of `parts` for the rows of `frame`, from `part_text(part)`: each part's text
        for those rows."""
        texts = [prompt_of_sides(frame, part_text("system"), part_text("input")) if part == "prompt"
                 else part_text(part) for part in parts]
        return texts[0].rename("text") if len(texts) == 1 else join_normalized(texts)

    def text_of(self, spec: str, frame):
        """`text(spec)` for the rows of `frame` (a frame handed to a `per_file` builder).

        A whole file (known by its row ids), or a file being built whole a slice at a time, is served
        from each part's text, normalized once for the audit and shared by every artefact; a run of
        blocks being rebuilt after an edit is normalized on its own.
        """
        if self.building_whole(frame):
            first = frame["row"][0]
            return self._selection(_parts(spec), frame, lambda part: self._part(part).slice(first, frame.height))
        return self.text_rows(spec, frame["row"])

    def building_whole(self, frame) -> bool:
        """Whether a frame handed to a `per_file` builder is a whole file, or a slice of one being built
        whole a slice at a time (see `per_file`): an artefact it reads is then wanted for every row of
        the file, where after an edit (a run of blocks) only the run's rows are."""
        from ..store.artefacts import building_whole_file

        if not frame.height:
            return False
        first = frame["row"][0]
        return building_whole_file() or any(f.first_row == first and f.lines == frame.height for f in self.files)

    @property
    def persistent(self) -> bool:
        """Whether `per_file` artefacts are kept between runs (the audit has an incremental cache)."""
        return self._cache is not None

    def text_rows(self, spec: str, rows):
        """`text(spec)` for some row ids: gathered from each part's text where it is held, else normalized for them."""
        import polars as pl

        rows = pl.Series("row", rows, dtype=pl.Int64)
        picked = None

        def part_text(part):
            nonlocal picked
            full = self._shared.get(_per_file_key(_text_artefact(part), concat=True))
            if full is not None:
                return full.gather(rows)
            if picked is None:
                picked = self.frame[rows]
            return matching_text(picked, [part])

        parts = _parts(spec)
        return self._selection(parts, self.frame.select("system", "prompt")[rows] if "prompt" in parts else None,
                               part_text)

    def text_keys(self, spec: str):
        """(frame rows, 3) uint64 per row of `text(spec)`: two independently seeded 64-bit hashes (128 bits:
        no collision in practice) and the length in bytes. Equal keys mean equal texts; kept per block
        in the cache, so grouping and joining on texts never needs the texts themselves.
        """
        import numpy as np
        import polars as pl

        def keys_of(texts):
            keys = np.empty((len(texts), 3), np.uint64)
            keys[:, 0] = texts.hash(11).to_numpy()  # a column at a time: one temporary, not three
            keys[:, 1] = texts.hash(23).to_numpy()
            keys[:, 2] = texts.str.len_bytes().to_numpy()
            return keys

        def build(frame):
            return keys_of(self.text_of(spec, frame))

        columns = {column for part in _parts(spec) for column in _COLUMNS[part]}
        frame = self.frame
        if frame.height and all(frame[column].null_count() == frame.height for column in columns):
            # No row has any of it (no system prompts, no labels, no functions): every key is the key of
            # "", one row seen through a read-only view of every row (a view costs no memory).
            return self.shared(("no-text-keys", spec, pl.__version__),
                               lambda: np.broadcast_to(keys_of(matching_text(frame.slice(0, 1), _parts(spec))),
                                                       (frame.height, 3)))

        # polars' string hash is stable within a version only; hashed here, from the texts held here
        return self.per_file(("text-keys", spec, pl.__version__, 1), build, remote=False)

    def per_file(self, key: Any, build: Callable[[Any], T], *, concat: bool = True, persist: bool = True,
                 blocks: bool | None = None, remote: bool = True) -> T:
        """An artefact computed file by file (or block by block) and kept in the incremental cache between runs.

        `build(frame)` gets one input file's frame (every row, valid or not, the columns of `ctx.frame`)
        and returns a numpy array, a polars Series or DataFrame, or a JSON-serializable list. The values
        of all files are concatenated in file order, which is the order of `ctx.frame` (so an array with
        one entry per frame row stays aligned with `ctx.frame`); `concat=False` returns the list of
        per-file values aligned with `ctx.datasets`. `key` (str, int, float, bool, None and tuples of
        them) must name everything the result depends on besides the file and the code: the artefact,
        the column and the options, e.g. `("minhash", "prompt", num_perm, seed)`. The code is keyed for
        you: entries are stored under a digest of the folder of the module defining `build`, so an
        edit there (a constant included) never reads what older code wrote; code `build` calls in other
        folders is not covered, so name its version in the key.
        `build` must read only the content columns (format, valid, error, system, prompt, response,
        label, tool_call), never `row`, `split`, `source` or `line`, which depend on the audit and on
        the position. Unchanged content is served from `.auditor_cache/` (unless `persist=False`: cheap
        to rebuild, costly to store); the result is memoized per audit like `shared`.

        `blocks` (default: the same as `concat`): the value is row-aligned (one entry per frame row
        along its first axis) and row-local (an entry depends on its own row only), so the cache builds
        and keeps it per block of lines and an edited line rebuilds one block: `build` may then get the
        rows of a run of blocks rather than of a whole file (their `row` column says which rows; use
        `text_of` for their texts). A value that turns out not to
        be row-aligned is built and kept for the whole file instead. `blocks=False` (the default with
        `concat=False`, whose values may hold positions within the file) always builds whole files.
        Without a cache every file is built whole, though a file of more than `BUILD_SLICE_ROWS` rows
        is handed to a row-local `build` that many rows at a time (so is a cold file's run of blocks;
        `building_whole(frame)` tells these slices from an edit's blocks); the result is the same
        either way.

        With another engine (`--engine ray`) a row-local value is built there, over blocks of rows, unless
        `remote=False`; `build` then gets the rows' content columns and a context that offers
        `settings` and `text_of` only (see `RowsView`).
        """
        from ..store.artefacts import per_file
        from ..store.code import code_digest
        from ..store.values import canonical_key

        cache = self._cache if persist else None
        # stored under the code that builds it too: an edited builder (or a constant beside it) never
        # reads what the old code wrote
        stored = (key, code_digest(build)) if cache is not None else key
        slice_rows = BUILD_SLICE_ROWS
        if self._engine is not None and remote and concat and blocks is not False:
            build = self._engine.by_rows(build, _family(("per-file", canonical_key(key)))[0])
            slice_rows = None  # the engine cuts the rows into its own blocks
        return self.shared(_per_file_key(key, concat),
                           lambda: per_file(cache, self.datasets, stored, build, concat=concat, blocks=blocks,
                                            slice_rows=slice_rows))

    def per_file_columns(self, keys: list[Any], widths: list[int], build: Callable[[Any], Any]) -> None:
        """Several row-aligned `per_file` artefacts that one pass builds side by side: `build(frame)`
        returns a 2-D array whose first `widths[0]` columns are the artefact of `keys[0]`, the next
        `widths[1]` that of `keys[1]`, and so on. Each is then memoized under its own key, as if
        `per_file(keys[i], ...)` had built it alone (ask for it that way); the cache keeps the pass's
        whole value under the list of keys, so the same checks get it back on the next run."""
        import numpy as np

        together = _per_file_key(("columns", *keys), True)
        with self._guard:
            lock = self._building.setdefault(together, threading.RLock())
        with lock:
            if all(self.memoized(key) for key in keys):
                return  # another thread's pass
            value = self.per_file(("columns", *keys), build)
            parts, start = {}, 0
            for key, width in zip(keys, widths):
                parts[_per_file_key(key, True)] = np.ascontiguousarray(value[:, start:start + width])
                start += width
            with self._guard:  # all at once: a thread that sees one memoized finds the others too
                for key, part in parts.items():
                    self._shared.setdefault(key, part)
                self._shared.pop(together, None)  # held as its parts only

    def memoized(self, key: Any) -> bool:
        """Whether the `per_file` artefact of `key` is already held for this audit."""
        return _per_file_key(key, True) in self._shared

    def memo(self, namespace: str, schema: dict[str, Any] | None = None):
        """A persistent memo of answers about single texts (see auditor.store.memo), kept in the audit's cache.

        `namespace` must name everything an answer depends on besides the text and the code: the
        artefact, the options and the seed (the memo is kept per version of the code of the caller's
        folder). With `schema` (column name -> polars dtype) the answers are the rows of a frame
        (`FrameMemo`: looked up with a join, loaded in milliseconds); without, JSON values
        (`TextMemo`). Without a cache the memo lives for this audit.
        """
        import sys

        from ..store.code import folder_digest

        caller = folder_digest(sys._getframe(1).f_code.co_filename)

        def build():
            import xxhash

            from ..store.memo import FrameMemo, TextMemo

            if self._cache is None:
                return TextMemo(None) if schema is None else FrameMemo(None, schema)
            # a FrameMemo's keys are polars' hash, stable within one polars version only
            version = "" if schema is None else f"\0polars {__import__('polars').__version__}"
            name = xxhash.xxh3_128_hexdigest(f"{namespace}\0{caller}{version}".encode())
            folder = Path(self._cache.root) / "memo"
            return TextMemo(folder / f"{name}.memo") if schema is None else FrameMemo(folder / f"{name}.fmemo", schema)
        return self.shared(("memo", namespace, schema is not None), build)

    def label_task(self) -> bool:
        """True when the train rows carry class labels (classification data)."""
        import polars as pl

        return self.shared("label_task", lambda: self.rows("train")
                           .select(pl.col("label").is_not_null().any()).item() or False)


class RowsView:
    """The context a per-file builder gets in another process: the audit's settings, and the texts of
    the rows it is handed (the same normalization as `AuditContext.text_of`)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def text_of(self, spec: str, frame):
        return matching_text(frame, _parts(spec))


# the frame columns each text part is made of
_COLUMNS = {"prompt": ("prompt",), "input": ("prompt",), "response": ("response",), "system": ("system",),
            "label": ("label",), "tools": ("tool_specs",)}


def _parts(spec: str) -> list[str]:
    parts = spec.split("+")
    unknown = [part for part in parts if part not in TEXT_PARTS]
    if unknown:
        raise ValueError(f"unknown text part '{unknown[0]}' (choose from {', '.join(TEXT_PARTS)})")
    return parts


def _text_artefact(spec: str) -> tuple:
    return ("text", spec, 1)


def _family(key: tuple) -> tuple[str, str | None]:
    """(artefact name, text selection or None) of a `shared` key (see `release`)."""
    if key[0] == "per-file":
        import orjson

        inner = orjson.loads(key[1]) if isinstance(key[1], (bytes, str)) else key[1]
        if isinstance(inner, list) and inner:
            second = inner[1] if len(inner) > 1 and isinstance(inner[1], str) else None
            return str(inner[0]), second
        return str(inner), None
    return str(key[0]), None


def _per_file_key(key: Any, concat: bool) -> tuple:
    """The `shared` key of a `per_file` artefact (its value is memoized per audit under it)."""
    from ..store.values import canonical_key

    return ("per-file", canonical_key(key), concat)
