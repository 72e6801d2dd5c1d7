"""`--engine ray`: the heavy stages of an audit as Ray Data operations over the local engine's own kernels.

What runs on Ray (everything else, the checks' joins and the verdict, runs on the driver on what
these stages hand back):

- per-row artefacts (`AuditContext.per_file` builders: MinHash band keys and signatures, the n-gram
  windows of leakage, the per-row prefilters of checks): `map_batches` over Arrow blocks of the frame,
  each batch normalized and hashed by the builder itself, only its value sent back (the text is dropped
  in the worker);
- candidate pairs: band key entries (band, key, row) hash-partitioned by key into whole-key
  partitions, each partition paired by `lsh.entry_pairs` (one call per partition, never per bucket);
  across train and eval the smaller side's keys are broadcast to the larger side's map tasks, which
  drop every entry the other side cannot pair with before the shuffle;
- verification: `map_batches` over the candidate pairs with the two texts of each pair, shingled and
  compared by `shingles.jaccard`.

Every stage calls the functions the local engine calls on the same values, so the report is the same
byte for byte; the tests hold both engines to that.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

# Rows of a frame per Ray block: a block of chat rows is ~30 MB of Arrow, one map task's working set.
ROWS_PER_BLOCK = 25_000
# Band key entries per shuffle partition (16 bytes each, ~3x that while a partition is sorted and paired):
# what bounds one task's memory in the pairing stage.
ENTRIES_PER_PARTITION = 4_000_000
# Shuffles of more band key entries than this run as Ray's disk-based hash shuffle (its partitions spill
# to local disk, so a shuffle larger than memory completes); smaller ones as the sort-based shuffle,
# whose tasks start in ~0.15 s where the hash shuffle's actors take 3.5-7 s (measured on 2 cores), and
# whose blocks Ray spills to disk when the object store is full.
DISK_SHUFFLE_ENTRIES = 50_000_000
# One band key entry as shuffled: band (int32), key (uint64), row and partition (int64).
_ENTRY_BYTES = 28
# Candidate pairs per verification batch (two texts each).
PAIRS_PER_BATCH = 50_000
# Frame columns a per-row builder may read (AuditContext.per_file): the audit's own columns stay home.
CONTENT_COLUMNS = ("row", "format", "valid", "error", "system", "prompt", "response", "label", "asked",
                   "tool_call", "tools", "tool_specs")


def available() -> bool:
    """Whether Ray Data can be imported here (the `ray` extra is installed)."""
    import importlib.util

    return importlib.util.find_spec("ray") is not None and importlib.util.find_spec("ray.data") is not None


class RayEngine:
    """A Ray session for one audit: joined (`address`, else $RAY_ADDRESS, else one already running in this
    process) or started locally with `workers` CPUs, and shut down at `close()` when it was started here."""

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # an audit sends nothing anywhere
        import ray

        self._started = False
        if not ray.is_initialized():
            address = address or os.environ.get("RAY_ADDRESS") or None
            options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                       "logging_level": "ERROR"}
            if address:
                unreachable = _unreachable(address)
                if unreachable:  # Ray itself retries an absent head for minutes
                    raise ConnectionError(unreachable)
                try:
                    ray.init(address=address, **options)
                except ConnectionError as exc:
                    raise ConnectionError(
                        f"{str(exc).strip().splitlines()[0]}; on a node of the cluster use the address 'auto', "
                        f"or set RAY_AUTH_MODE=token for a cluster with Ray's token authentication") from None
            else:
                # a Ray of its own even where `ray start` left one running: --workers is this run's
                ray.init(address="local", num_cpus=workers, **options)
            self._started = True
        import logging

        import ray.data

        # Ray Data logs every execution at INFO and the progress bars it does not draw at WARNING: the
        # audit's output is its report, not Ray's progress
        logging.getLogger("ray.data").setLevel(logging.ERROR)
        data = ray.data.DataContext.get_current()
        data.enable_progress_bars = False
        data.print_on_execution_start = False
        data.verbose_stats_logs = False
        # a hash shuffle (see DISK_SHUFFLE_ENTRIES) spills its partitions to local disk instead of failing
        data.use_disk_based_hash_shuffle = True
        self.disk_shuffle_entries = DISK_SHUFFLE_ENTRIES
        self._cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        self._blocks: dict[int, tuple[Any, list[Any]]] = {}  # id(frame) -> (frame, refs of its Arrow blocks)
        # stage -> [seconds, rows, bytes shuffled], for the benchmark's rates (benchmarks/bench_ray.py)
        self.stages: dict[str, list[float]] = {}

    def close(self) -> None:
        self._blocks.clear()
        if self._started:
            import ray

            ray.shutdown()
            self._started = False

    # -- per-row artefacts ------------------------------------------------------------------------------
    def by_rows(self, build, name: str = "rows"):
        """`build` (a row-local per-file builder) run by Ray Data over blocks of the frame it is given."""
        def run(frame):
            return self.map_rows(build, frame, name)
        return run

    def map_rows(self, build, frame, name: str = "rows") -> Any:
        import ray

        from ..store.values import decode_value, join_rows

        if frame.height == 0:
            return build(frame)
        with self._timed(name, frame.height):
            dataset = ray.data.from_arrow_refs(self._frame_blocks(frame))
            out = dataset.map_batches(_build_batch, fn_args=(build,), batch_format="pyarrow", batch_size=None,
                                      zero_copy_batch=True)
            parts = []
            for table in ray.get(out.to_arrow_refs()):
                columns = table.to_pydict()
                parts += [(start, rows, decode_value(kind, payload)) for start, rows, kind, payload
                          in zip(columns["start"], columns["rows"], columns["kind"], columns["payload"])]
        parts.sort(key=lambda part: part[0])
        first = int(frame["row"][0])
        expected = first
        for start, rows, _ in parts:
            if start != expected:
                raise RuntimeError(f"ray engine: block at row {start} where row {expected} was due")
            expected += rows
        value = join_rows([value for _, _, value in parts])
        if value is None or not _aligned(value, frame.height):
            return build(frame)  # not row-aligned after all: built whole, as the local engine builds it
        return value

    def _frame_blocks(self, frame) -> list[Any]:
        """The frame's content columns as Arrow blocks in the object store, put once per audit."""
        import polars as pl
        import ray

        held = self._blocks.get(id(frame))
        if held is not None and held[0] is frame:
            return held[1]
        columns = [c for c in CONTENT_COLUMNS if c in frame.columns]
        refs = [ray.put(frame.slice(lo, ROWS_PER_BLOCK).select(columns).to_arrow(compat_level=pl.CompatLevel.oldest()))
                for lo in range(0, frame.height, ROWS_PER_BLOCK)]
        self._blocks[id(frame)] = (frame, refs)
        return refs

    # -- candidate pairs --------------------------------------------------------------------------------
    def candidate_pairs(self, keys: np.ndarray, *, max_bucket: int = 200) -> tuple[np.ndarray, np.ndarray]:
        """`lsh.candidate_pairs(keys)`: band key entries shuffled into whole-key partitions, paired per partition."""
        import ray

        from ..similarity.lsh import _unique_pairs

        n, bands = keys.shape
        if n == 0 or bands == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        partitions = self._partitions(n * bands)
        self._shuffle_for(n * bands)
        with self._timed("candidate pairs", n, n * bands * _ENTRY_BYTES):
            entries = ray.data.from_arrow_refs(self._key_blocks(keys)).map_batches(
                _entries, fn_args=(partitions, None), batch_format="numpy", batch_size=None, zero_copy_batch=True)
            pairs = entries.groupby("part").map_groups(_pair_partition, fn_args=(max_bucket,), batch_format="numpy")
            left, right = _collect_pairs(pairs)
        return _unique_pairs(left, right)

    def cross_candidate_pairs(self, keys_a: np.ndarray, keys_b: np.ndarray, *,
                              max_bucket: int = 200) -> tuple[np.ndarray, np.ndarray]:
        """`lsh.cross_candidate_pairs(keys_a, keys_b)`: the smaller side's keys (the eval set's, against a
        training set) are broadcast, and the larger side's map tasks drop every entry they cannot pair
        with before the shuffle; only entries of shared keys are shuffled."""
        import ray

        from ..similarity.lsh import _unique_pairs

        if keys_a.shape[0] == 0 or keys_b.shape[0] == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        a_smaller = keys_a.size <= keys_b.size
        small = keys_a if a_smaller else keys_b
        partitions = self._partitions(small.size * 2)
        self._shuffle_for(small.size * 2)
        with self._timed("cross candidate pairs", keys_a.shape[0] + keys_b.shape[0], small.size * 2 * _ENTRY_BYTES):
            wanted = np.unique(small.ravel())  # sent once to the object store by Ray Data
            side_a = ray.data.from_arrow_refs(self._key_blocks(keys_a)).map_batches(
                _entries, fn_args=(partitions, None if a_smaller else wanted), fn_kwargs={"side": 0},
                batch_format="numpy", batch_size=None, zero_copy_batch=True)
            side_b = ray.data.from_arrow_refs(self._key_blocks(keys_b)).map_batches(
                _entries, fn_args=(partitions, wanted if a_smaller else None), fn_kwargs={"side": 1},
                batch_format="numpy", batch_size=None, zero_copy_batch=True)
            pairs = side_a.union(side_b).groupby("part").map_groups(_cross_partition, fn_args=(max_bucket,),
                                                                     batch_format="numpy")
            left, right = _collect_pairs(pairs)
        return _unique_pairs(left, right)

    def _shuffle_for(self, entries: int) -> None:
        from ray.data.context import DataContext, ShuffleStrategy

        DataContext.get_current().shuffle_strategy = (
            ShuffleStrategy.SHUFFLE_V2 if entries > self.disk_shuffle_entries else ShuffleStrategy.SORT_SHUFFLE_PULL_BASED)

    def _partitions(self, entries: int) -> int:
        return max(self._cpus, -(-entries // ENTRIES_PER_PARTITION))

    def _key_blocks(self, keys: np.ndarray) -> list[Any]:
        import pyarrow as pa
        import ray

        refs = []
        for lo in range(0, keys.shape[0], ROWS_PER_BLOCK * 4):
            block = np.ascontiguousarray(keys[lo:lo + ROWS_PER_BLOCK * 4])
            flat = pa.FixedSizeListArray.from_arrays(pa.array(block.ravel()), block.shape[1])
            refs.append(ray.put(pa.table({"index": pa.array(np.arange(lo, lo + len(block), dtype=np.int64)),
                                          "keys": flat})))
        return refs

    # -- verification -----------------------------------------------------------------------------------
    def pair_jaccard(self, texts, left: np.ndarray, right: np.ndarray, *, ngram: int, char_ngram: int,
                     seed: int) -> np.ndarray:
        """`shingles.jaccard` of each pair's shingle sets; `texts[i]` is the text of the pair indexes' row i."""
        import polars as pl
        import ray

        if not len(left):
            return np.zeros(0, np.float64)
        with self._timed("verification", len(left)):
            refs = []
            for lo in range(0, len(left), PAIRS_PER_BATCH):
                a = texts.gather(left[lo:lo + PAIRS_PER_BATCH]).rename("a")
                b = texts.gather(right[lo:lo + PAIRS_PER_BATCH]).rename("b")
                refs.append(ray.put(pl.DataFrame([a, b]).to_arrow(compat_level=pl.CompatLevel.oldest())))
            out = ray.data.from_arrow_refs(refs).map_batches(
                _jaccard_batch, fn_args=(ngram, char_ngram, seed), batch_format="pyarrow", batch_size=None,
                zero_copy_batch=True)
            parts = [table["similarity"].to_numpy() for table in ray.get(out.to_arrow_refs())]
        similarity = np.concatenate(parts) if parts else np.zeros(0, np.float64)
        if len(similarity) != len(left):
            raise RuntimeError("ray engine: verification lost pairs")
        return similarity

    def _timed(self, stage: str, rows: int, shuffled: int = 0):
        import contextlib
        import time

        @contextlib.contextmanager
        def timing():
            start = time.perf_counter()
            yield
            spent = self.stages.setdefault(stage, [0.0, 0, 0])
            spent[0] += time.perf_counter() - start
            spent[1] += rows
            spent[2] += shuffled
        return timing()


def _unreachable(address: str, timeout: float = 5.0) -> str | None:
    """Why nothing can answer at a HOST:PORT address (one TCP connection tried), or None: reachable, or
    an address Ray resolves itself ('auto', 'ray://...')."""
    import socket

    host, _, port = address.rpartition(":")
    if "://" in address or not host or not port.isdigit():
        return None
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            return None
    except OSError as exc:
        return f"nothing answers at {address} ({exc.strerror or type(exc).__name__})"


def _aligned(value: Any, height: int) -> bool:
    return (len(value) if isinstance(value, list) else value.shape[0] if hasattr(value, "shape")
            else len(value)) == height


# -- the tasks (module functions: Ray sends them by name, not by value) ------------------------------------
def _build_batch(table, build):
    """One Arrow block of frame rows -> one row holding the builder's value for them, in the cache's codec."""
    import polars as pl
    import pyarrow as pa

    from ..store.values import encode_value

    frame = pl.from_arrow(table)
    if isinstance(frame, pl.Series):
        frame = frame.to_frame()
    kind, payload = encode_value(build(frame))
    return pa.table({"start": pa.array([int(frame["row"][0])], pa.int64()), "rows": pa.array([frame.height], pa.int64()),
                     "kind": [kind], "payload": pa.array([bytes(payload)], pa.large_binary())})


def _entries(batch, partitions: int, wanted, side: int | None = None):
    """Rows of band keys -> one entry (band, key, row, part) per key; with `wanted` (the other side's keys,
    broadcast), only the entries that can pair."""
    keys = batch["keys"]
    if keys.dtype == object:  # a column of lists arrives as an array of arrays
        keys = np.stack(keys) if len(keys) else np.zeros((0, 1), np.uint64)
    keys = np.asarray(keys, dtype=np.uint64)
    index = np.asarray(batch["index"], dtype=np.int64)
    n, bands = keys.shape
    flat = keys.ravel()
    rows = np.repeat(index, bands)
    band = np.tile(np.arange(bands, dtype=np.int32), n)
    if wanted is not None:
        keep = np.isin(flat, wanted)
        flat, rows, band = flat[keep], rows[keep], band[keep]
    out = {"band": band, "key": flat, "row": rows, "part": (flat % np.uint64(partitions)).astype(np.int64)}
    if side is not None:
        out["side"] = np.full(len(flat), side, dtype=np.int8)
    return out


def _pair_partition(group, max_bucket: int):
    from ..similarity.lsh import entry_pairs

    left, right = entry_pairs(np.asarray(group["band"]), np.asarray(group["key"], np.uint64),
                              np.asarray(group["row"], np.int64), max_bucket=max_bucket)
    return {"left": left, "right": right}


def _cross_partition(group, max_bucket: int):
    from ..similarity.lsh import cross_entry_pairs

    side, key, row = (np.asarray(group[c]) for c in ("side", "key", "row"))
    picked = []
    for s in (0, 1):
        mine = np.flatnonzero(side == s)
        # row-major entry order (row, then band) as the local engine flattens its key matrix
        order = mine[np.lexsort((np.asarray(group["band"])[mine], row[mine]))]
        picked.append((key[order].astype(np.uint64), row[order].astype(np.int64)))
    left, right = cross_entry_pairs(*picked[0], *picked[1], max_bucket=max_bucket)
    return {"left": left, "right": right}


def _collect_pairs(pairs) -> tuple[np.ndarray, np.ndarray]:
    import ray

    left, right = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for table in ray.get(pairs.to_arrow_refs()):
        if table.num_rows:
            left.append(table["left"].to_numpy().astype(np.int64))
            right.append(table["right"].to_numpy().astype(np.int64))
    return np.concatenate(left), np.concatenate(right)


def _jaccard_batch(table, ngram: int, char_ngram: int, seed: int):
    import polars as pl
    import pyarrow as pa

    from ..similarity.shingles import jaccard, shingle_hashes

    frame = pl.from_arrow(table)
    n = frame.height
    offsets, hashes = shingle_hashes(pl.concat([frame["a"], frame["b"]]), ngram=ngram, char_ngram=char_ngram,
                                      seed=seed)
    index = np.arange(n, dtype=np.int64)
    return pa.table({"similarity": jaccard(offsets, hashes, index, index + n)})
