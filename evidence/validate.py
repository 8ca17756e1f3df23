"""Checking one evidence file (Parquet or CSV) batch by batch, or refusing it whole.

The file is streamed in batches of BATCH rows: each batch's columns are checked and typed with
Arrow compute where the column already has a fitting Arrow type (timestamps, numbers, booleans,
strings: no Python object per cell), and with the pandas conversions below where it does not
(text in CSV, mixed types). A refusal names the file, the first bad cell's 1-based data row and
its column: the earliest row with a bad cell, and the first such column in the kind's order
(a missing required column comes before any row).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from evidence.errors import EvidenceSchemaError
from evidence.schemas import KINDS, Column
from governance.evidence_columns import UNREPORTED

if TYPE_CHECKING:
    import pandas as pd

TRUE = {"true", "1", "yes", "t", "y"}
FALSE = {"false", "0", "no", "f", "n", ""}
NULL_TEXT = ["", "nan", "NaN", "null", "None"]
BATCH = 1 << 20
Array = np.ndarray[Any, Any]
# The stored Arrow type of each column type (timestamps as int64 UTC nanoseconds).
STORED = {
    "timestamp": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "flag": pa.bool_(),
    "string": pa.string(),
}


def stored_schema(kind: str) -> pa.Schema:
    return pa.schema([(c.name, STORED[c.type]) for c in KINDS[kind]])


@dataclass(frozen=True)
class Bad:
    row: int  # 0-based within the batch
    reason: str


class _Found:
    """The earliest bad row of one column, over all of its checks."""

    def __init__(self) -> None:
        self.bad: Bad | None = None

    def check(self, mask: Array | pa.Array | pa.ChunkedArray, reason: str) -> None:
        row = _first(mask)
        if row is not None and (self.bad is None or row < self.bad.row):
            self.bad = Bad(row, reason)


def _first(mask: Array | pa.Array | pa.ChunkedArray) -> int | None:
    if isinstance(mask, np.ndarray):
        hits = np.flatnonzero(mask)
        return int(hits[0]) if hits.size else None
    mask = mask.fill_null(False)
    if not pc.any(mask).as_py():
        return None
    return int(pc.index(mask, True).as_py())


def batches(kind: str, path: Path) -> Iterator[pa.RecordBatch]:
    """The file's rows, checked and typed as `stored_schema(kind)`, BATCH rows at a time."""
    if kind not in KINDS:
        raise EvidenceSchemaError(
            path, None, None, f"unknown kind {kind!r} (one of {sorted(KINDS)})"
        )
    names, source = _open(path)
    for spec in KINDS[kind]:
        if spec.required and spec.name not in names:
            raise EvidenceSchemaError(path, None, spec.name, "required column is missing")
    offset = 0
    try:
        for batch in source:
            yield check_batch(path, kind, batch, offset)
            offset += batch.num_rows
    except (pa.ArrowInvalid, OSError) as exc:
        raise EvidenceSchemaError(path, None, None, f"unreadable: {exc}") from None


def _open(path: Path) -> tuple[list[str], Iterator[pa.RecordBatch]]:
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            f = pq.ParquetFile(path, memory_map=True)
            names = f.schema_arrow.names
            wanted = {c.name for spec in KINDS.values() for c in spec}
            return names, f.iter_batches(BATCH, columns=[n for n in names if n in wanted])
        if suffix == ".csv":
            # Every cell as text, nothing read as null: the conversions below decide.
            header = pacsv.open_csv(path).schema.names
            reader = pacsv.open_csv(
                path,
                read_options=pacsv.ReadOptions(block_size=64 << 20),
                convert_options=pacsv.ConvertOptions(
                    column_types={n: pa.string() for n in header},
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                    null_values=[],
                ),
            )
            return header, iter(reader)
    except (pa.ArrowInvalid, OSError) as exc:
        raise EvidenceSchemaError(path, None, None, f"unreadable: {exc}") from None
    raise EvidenceSchemaError(path, None, None, "expected a .parquet or .csv file")


def check_batch(path: Path, kind: str, batch: pa.RecordBatch, offset: int) -> pa.RecordBatch:
    out: list[pa.Array] = []
    worst: tuple[int, int, str, str] | None = None  # (row, column index, column, reason)
    n = batch.num_rows
    for index, spec in enumerate(KINDS[kind]):
        if spec.name not in batch.schema.names:
            if spec.type == "flag":
                out.append(pa.nulls(n, pa.bool_()))  # not reported
            else:
                out.append(pa.array(np.full(n, spec.default), STORED[spec.type]))
            continue
        column = batch.column(spec.name)
        checked = _arrow(spec, column)
        if checked is None:
            checked = _pandas(spec, column.to_pandas())
        values, bad = checked
        out.append(values)
        if bad is not None and (worst is None or (bad.row, index) < worst[:2]):
            worst = (bad.row, index, spec.name, bad.reason)
    if worst is not None:
        raise EvidenceSchemaError(path, offset + worst[0] + 1, worst[2], worst[3])
    return pa.RecordBatch.from_arrays(out, schema=stored_schema(kind))


def _arrow(spec: Column, column: pa.Array) -> tuple[pa.Array, Bad | None] | None:
    """The column checked with Arrow compute, or None when its type needs the pandas path."""
    t, found = column.type, _Found()
    if pa.types.is_dictionary(t) and pa.types.is_string(t.value_type):
        column, t = column.cast(pa.string()), pa.string()
    nulls = column.is_null()
    if spec.type == "timestamp":
        try:
            if pa.types.is_timestamp(t):
                values = column.cast(pa.timestamp("ns", tz=t.tz)).cast(pa.int64())
            elif pa.types.is_integer(t):
                values = column.cast(pa.int64())  # nanoseconds, as pandas reads them
            else:
                return None
        except pa.ArrowInvalid:
            return None  # out of the nanosecond range: the pandas path says which row
        found.check(nulls, "value is missing")
        return values.fill_null(0), found.bad
    if spec.type == "float":
        if not (pa.types.is_floating(t) or pa.types.is_integer(t) or pa.types.is_decimal(t)):
            return None
        values = column.cast(pa.float64())
        missing = pc.or_(nulls, pc.is_nan(values).fill_null(True))
        if not spec.nullable:
            found.check(missing, "value is missing")
        finite = pc.is_finite(values).fill_null(False)
        if spec.low is not None:
            found.check(pc.and_(finite, pc.less(values, spec.low)), f"below {spec.low}")
        if spec.high is not None:
            found.check(pc.and_(finite, pc.greater(values, spec.high)), f"above {spec.high}")
        return values.fill_null(np.nan), found.bad
    if spec.type in ("bool", "flag"):
        if not pa.types.is_boolean(t):
            return None
        if spec.type == "flag":
            return column, None  # a null is "not reported"
        found.check(nulls, "value is missing")
        return column.fill_null(False), found.bad
    if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
        return None
    column = column.cast(pa.string())
    if not spec.nullable:
        empty = pc.is_in(pc.utf8_trim_whitespace(column), pa.array(NULL_TEXT))
        found.check(pc.or_(nulls, empty), "value is missing")
    if spec.choices:
        inside = pc.is_in(column, pa.array(spec.choices)).fill_null(False)
        found.check(pc.invert(inside), f"not one of {', '.join(spec.choices)}")
    return column, found.bad


def _is_null(series: pd.Series) -> Array:
    import pandas as pd  # text columns only (CSV): Arrow types never load it

    nulls = series.isna().to_numpy().copy()
    if series.dtype == object or pd.api.types.is_string_dtype(series):
        nulls |= series.astype(str).str.strip().isin(NULL_TEXT).to_numpy()
    return nulls


def _pandas(spec: Column, series: pd.Series) -> tuple[pa.Array, Bad | None]:
    """The conversions of text (CSV) and other types, as they have always been."""
    values, bad = _convert(spec, series)
    if spec.type == "flag":
        flags = values.astype(np.int8)
        return pa.array(flags > 0, mask=flags < 0, type=pa.bool_()), bad
    return pa.array(values, STORED[spec.type]), bad


def _convert(spec: Column, series: pd.Series) -> tuple[Array, Bad | None]:
    import pandas as pd  # text columns only (CSV): Arrow types never load it

    nulls, found = _is_null(series), _Found()
    if not spec.nullable:
        found.check(nulls, "value is missing")
    if spec.type == "timestamp":
        parsed = pd.to_datetime(series, utc=True, errors="coerce")
        bad = parsed.isna().to_numpy() & ~nulls
        found.check(bad, "not a timestamp")
        return parsed.to_numpy(dtype="datetime64[ns]").astype(np.int64), found.bad
    if spec.type == "float":
        numbers = pd.to_numeric(series.where(~nulls, None), errors="coerce")
        parsed = numbers.to_numpy(dtype=np.float64)
        found.check(np.isnan(parsed) & ~nulls, "not a number")
        finite = np.isfinite(parsed)
        if spec.low is not None:
            found.check(finite & (parsed < spec.low), f"below {spec.low}")
        if spec.high is not None:
            found.check(finite & (parsed > spec.high), f"above {spec.high}")
        return parsed, found.bad
    if spec.type in ("bool", "flag"):
        if pd.api.types.is_bool_dtype(series) and not nulls.any():
            values = series.to_numpy(dtype=bool)
        else:
            text = series.astype(str).str.strip().str.lower()
            known = text.isin(TRUE | FALSE).to_numpy()
            found.check(~known & ~nulls, "not a boolean (true/false)")
            values = text.isin(TRUE).to_numpy()
        if spec.type == "bool":
            return values, found.bad
        return np.where(nulls, UNREPORTED, values.astype(np.int8)).astype(np.int8), found.bad
    values = series.astype(str).to_numpy()
    if spec.choices:
        found.check(~np.isin(values, spec.choices), f"not one of {', '.join(spec.choices)}")
    return values.astype(str), found.bad
