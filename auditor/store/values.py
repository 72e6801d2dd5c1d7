"""The values a cache entry holds (numpy arrays, polars Series and DataFrames, JSON lists): their
bytes, their keys, and how row-aligned values are cut into blocks and joined again."""

from __future__ import annotations

import io
from typing import Any

import orjson


def canonical_key(key: Any) -> bytes:
    """A stable byte form of an artefact key (str, int, float, bool, None and tuples/lists of them)."""
    def check(value: Any) -> None:
        if isinstance(value, (list, tuple)):
            for item in value:
                check(item)
        elif not (value is None or isinstance(value, (str, int, float, bool))):
            raise TypeError(f"a per-file artefact key holds only str, int, float, bool, None and tuples, "
                            f"not {type(value).__name__}")
    check(key)
    return orjson.dumps(key)


def value_kind(value: Any) -> str:
    """numpy arrays, polars Series/DataFrames and JSON lists: the values a per-file artefact may be."""
    if isinstance(value, list):
        return "list"
    kind = {"ndarray": "ndarray", "Series": "series", "DataFrame": "frame"}.get(type(value).__name__)
    module = type(value).__module__.partition(".")[0]
    if kind is None or module not in ("numpy", "polars"):
        raise TypeError(f"a per-file artefact must be a numpy array, a polars Series or DataFrame, or a list, "
                        f"not {type(value).__name__}")
    return kind


def encode_value(value: Any) -> tuple[str, bytes | memoryview]:
    kind = value_kind(value)
    buffer = io.BytesIO()
    if kind == "ndarray":
        import numpy as np

        if value.dtype.hasobject:
            raise TypeError("a per-file numpy artefact cannot hold Python objects")
        np.save(buffer, value, allow_pickle=False)
    elif kind in ("series", "frame"):
        import polars as pl

        frame = value.to_frame() if kind == "series" else value
        # text compresses ~3x and lz4 reads at GB/s; numbers do not compress: they are read as stored
        text = any(dtype == pl.String for dtype in frame.schema.values())
        frame.write_ipc(buffer, compression="lz4" if text else "uncompressed")
    else:
        return kind, orjson.dumps(value)
    return kind, buffer.getbuffer()


def _array(payload: Any) -> Any:
    """The array of an .npy payload, on the payload's own bytes when they are writable (no copy)."""
    import numpy as np
    from numpy.lib import format as npy

    head = io.BytesIO(bytes(payload[: min(len(payload), 1 << 16)]))
    version = npy.read_magic(head)
    read_header = {(1, 0): npy.read_array_header_1_0, (2, 0): npy.read_array_header_2_0}.get(version)
    if read_header is None:
        raise ValueError(f"an .npy version this code never writes: {version}")
    shape, fortran, dtype = read_header(head)
    if dtype.hasobject:
        raise ValueError("object arrays are never stored")
    count = int(np.prod(shape, dtype=np.int64))
    array = np.frombuffer(payload, dtype=dtype, count=count, offset=head.tell())
    if array.flags.writeable is False:
        array = array.copy()
    return array.reshape(shape, order="F" if fortran else "C")


def decode_value(kind: str, payload: bytes | memoryview) -> Any:
    """The value of a payload; ValueError when it cannot be read (damaged, or of another kind)."""
    import numpy as np
    import polars as pl

    try:
        if kind == "ndarray":
            return _array(payload)
        if kind == "series":
            return pl.read_ipc(io.BytesIO(payload)).to_series()
        if kind == "frame":
            return pl.read_ipc(io.BytesIO(payload))
        if kind == "list":
            return orjson.loads(payload)
    except Exception:  # damaged payload that passed the checksum: treat as absent
        raise TypeError("unreadable payload") from None
    raise TypeError(f"unknown value kind {kind!r}")


def split_rows(value: Any, sizes: list[int]) -> list[Any] | None:
    """A row-aligned value cut into pieces of `sizes` rows; None when it is not row-aligned."""
    kind = value_kind(value)
    if kind == "ndarray" and value.ndim == 0:
        return None
    if len(value) != sum(sizes):
        return None
    pieces, at = [], 0
    for size in sizes:
        pieces.append(value.slice(at, size) if kind in ("series", "frame") else value[at : at + size])
        at += size
    return pieces


def joinable(parts: list[Any]) -> bool:
    """Whether blocks of one file are of one type (dtype and trailing shape, Series dtype and name,
    frame schema, or lists), so that `join_rows` joins them."""
    first = parts[0]
    if isinstance(first, list):
        return all(isinstance(p, list) for p in parts)
    kind = type(first).__name__
    if kind == "ndarray":
        return all(type(p) is type(first) and p.dtype == first.dtype and p.shape[1:] == first.shape[1:]
                   for p in parts)
    if kind == "Series":
        return all(type(p) is type(first) and p.dtype == first.dtype and p.name == first.name for p in parts)
    if kind == "DataFrame":
        return all(type(p) is type(first) and p.schema == first.schema for p in parts)
    return False


def join_rows(parts: list[Any]) -> Any:
    """Blocks of one file as one value, or None when they are not of one type (see `joinable`)."""
    if not joinable(parts):
        return None
    first = parts[0]
    if isinstance(first, list):
        return [item for part in parts for item in part]
    if len(parts) == 1:
        return first
    if type(first).__name__ == "ndarray":
        import numpy as np

        return np.concatenate(parts)
    import polars as pl

    return pl.concat(parts, rechunk=True)


def combine(values: list[Any]) -> Any:
    """Concatenate per-file values in file order (the order of ctx.frame); a file's value may be the
    `Pieces` of its blocks: numpy pieces are copied once, straight into the whole."""
    from .packs import Pieces

    if not values:
        return values
    if all(isinstance(v, Pieces) or type(v).__name__ == "ndarray" for v in values):
        parts = [p for v in values for p in (v.slices() if isinstance(v, Pieces) else [v])]
        if parts and all(type(p).__name__ == "ndarray" for p in parts):
            import numpy as np

            return parts[0] if len(parts) == 1 else np.concatenate(parts)
    values = [v.joined() if isinstance(v, Pieces) else v for v in values]
    first = values[0]
    if isinstance(first, list):
        return [item for value in values for item in value]
    if len(values) == 1:
        return first
    import numpy as np
    import polars as pl

    if isinstance(first, np.ndarray):
        return np.concatenate(values)
    if isinstance(first, (pl.Series, pl.DataFrame)):
        return pl.concat(values, rechunk=False)
    raise TypeError(f"cannot concatenate per-file values of type {type(first).__name__}")
