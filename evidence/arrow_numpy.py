"""NumPy arrays of Arrow columns, read from the columns' own buffers.

Arrow's `to_numpy` runs its pandas conversion (ConvertArrayToPandas), and that imports pandas
the first time it runs if pandas is installed, as it always is here (exchange-calendars needs
it): ~190 ms on this machine, on a cold report's critical path, for columns that are a view of a
buffer anyway. Its `cast` and `fill_null` import pyarrow.compute (~30 ms). So a report reads a
stored file's columns here instead: a number column is a view of its values buffer (copied
only to join chunks or fill nulls), a bool column is unpacked from its bits. A column of any
other type goes through Arrow's own conversion.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

Array = np.ndarray[Any, Any]


def _chunks(column: pa.ChunkedArray | pa.Array) -> list[pa.Array]:
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    return [c for c in chunks if len(c)]


def _join(parts: list[Array], dtype: np.dtype[Any]) -> Array:
    if len(parts) == 1:
        return parts[0]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


def bits(buffer: pa.Buffer, offset: int, n: int) -> Array:
    """Bits offset..offset+n of an Arrow bitmap (least significant bit first), a byte each."""
    packed = np.frombuffer(buffer, dtype=np.uint8)
    return np.unpackbits(packed, count=offset + n, bitorder="little")[offset:]


def _filled(chunk: pa.Array, values: Array, null: float | int) -> Array:
    """`values` of the chunk, `null` where the chunk's validity bitmap says null."""
    if not chunk.null_count:
        return values
    valid = bits(chunk.buffers()[0], chunk.offset, len(chunk)).view(bool)
    return np.where(valid, values, null).astype(values.dtype)


def number_dtype(arrow_type: pa.DataType) -> np.dtype[Any] | None:
    """The NumPy dtype whose bytes an Arrow integer, float or timestamp's values buffer holds
    (a timestamp's: int64 counts of its unit); None for any other type."""
    if pa.types.is_timestamp(arrow_type):
        return np.dtype(np.int64)
    if pa.types.is_signed_integer(arrow_type):
        return np.dtype(f"int{arrow_type.bit_width}")
    if pa.types.is_unsigned_integer(arrow_type):
        return np.dtype(f"uint{arrow_type.bit_width}")
    if pa.types.is_floating(arrow_type) and arrow_type.bit_width in (32, 64):
        return np.dtype(f"float{arrow_type.bit_width}")
    return None


def numbers(column: pa.ChunkedArray | pa.Array, null: float | int) -> Array:
    """A number column's values, `null` (a value of its dtype: NaN only for floats) where null:
    a view of the buffer when the column is one chunk without nulls (read-only), else a copy."""
    dtype = number_dtype(column.type)
    if dtype is None:
        raise TypeError(f"{column.type} is not a number type")
    parts = []
    for chunk in _chunks(column):
        n, offset = len(chunk), chunk.offset
        data = chunk.buffers()[1]
        values = np.frombuffer(data, dtype=dtype, count=n, offset=offset * dtype.itemsize)
        values.flags.writeable = False  # Arrow's memory: immutable, as its own views are
        parts.append(_filled(chunk, values, null))
    return _join(parts, dtype)


def bool_codes(column: pa.ChunkedArray | pa.Array, null: int) -> Array:
    """A bool column as int8 codes: 1, 0, and `null` where it is null (a column of another
    type: cast to int8 by Arrow)."""
    if not pa.types.is_boolean(column.type):
        return np.asarray(column.cast(pa.int8()).fill_null(null).to_numpy(), dtype=np.int8)
    parts = []
    for chunk in _chunks(column):
        n, offset = len(chunk), chunk.offset
        parts.append(_filled(chunk, bits(chunk.buffers()[1], offset, n).view(np.int8), null))
    return _join(parts, np.dtype(np.int8))
