"""Reading the columns of stored signal evaluations that the metrics need, day by day.

Only the columns the criteria read are decoded (never `symbol`), `action` stays dictionary
codes (a direction per code, not a Python string per row), and a file stored in time order is
streamed one row group at a time, so memory holds a few days, not the file. A time range is
pushed into the scan: row groups outside it are skipped on their statistics.

Rows reach the metrics in the order the full load gives them (time order, ties in stored order),
which is the order the IC's sums are taken in, so results equal the full load's bit for bit.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from evidence import arrow_numpy
from governance.evidence_columns import NS_PER_DAY, UNREPORTED
from governance.metrics.signal_days import FLAGS
from governance.metrics.signal_quality import ACTION_SIGN

Array = np.ndarray[Any, Any]
FLOATS = ("score", "confidence", "fwd_return")
BOOLS = ("valid", "error")
READ = ("ts", "action", *FLOATS, *BOOLS, *FLAGS)
# Schema metadata of files this package wrote in time order (ingest sorts stably by ts).
SORTED_KEY = b"stratgate.sorted_by_ts"


@dataclass(frozen=True)
class DayRows:
    """One day's rows: direction, the floats, the bools and the flags (and ts, unless the
    file's row group for the day says all that is needed of it: its earliest and latest)."""

    day: int
    span: tuple[int, int]  # earliest and latest ts
    columns: dict[str, Array]

    def __len__(self) -> int:
        return len(self.columns["direction"])


def _ts_ns(column: pa.ChunkedArray | pa.Array) -> Array:
    if pa.types.is_timestamp(column.type) and column.type.unit != "ns":
        column = column.cast(pa.timestamp("ns", tz=column.type.tz))
    if column.null_count or arrow_numpy.number_dtype(column.type) is None:
        return np.asarray(column.to_numpy(), dtype=np.int64)  # refused at ingest; Arrow's way
    return np.asarray(arrow_numpy.numbers(column, 0), dtype=np.int64)


def _direction(score: Array, action: pa.ChunkedArray | pa.Array) -> Array:
    """sign(score), or the action's sign where the score is not finite (signal_quality)."""
    out = np.sign(score)
    unscored = ~np.isfinite(score)
    if not unscored.any():
        return out
    chunks = action.chunks if isinstance(action, pa.ChunkedArray) else [action]
    signs = []
    for chunk in chunks:
        if not pa.types.is_dictionary(chunk.type):
            chunk = chunk.dictionary_encode()
        # A sign per distinct action (HOLD and unknown ones: 0), the last slot for nulls.
        table = np.array([ACTION_SIGN.get(v, 0.0) for v in chunk.dictionary.to_pylist()] + [0.0])
        codes = arrow_numpy.numbers(chunk.indices, len(table) - 1)
        signs.append(table[codes])
    by_action = np.concatenate(signs) if signs else np.zeros(0)
    out[unscored] = by_action[unscored]
    return out


def columns_of(table: pa.Table) -> dict[str, Array]:
    """The metric columns of a table read from a signal_evaluations file, as NumPy."""
    out: dict[str, Array] = {}
    if "ts" in table.column_names:
        out["ts"] = _ts_ns(table.column("ts"))
    n = table.num_rows
    for name in FLOATS:
        out[name] = _floats(table.column(name))
    for name in BOOLS:
        out[name] = arrow_numpy.bool_codes(table.column(name), 0).view(bool)
    for name in FLAGS:
        if name in table.column_names:
            out[name] = arrow_numpy.bool_codes(table.column(name), UNREPORTED)
        else:  # a file without the column reports nothing about it
            out[name] = np.full(n, UNREPORTED, dtype=np.int8)
    out["direction"] = _direction(out["score"], table.column("action"))
    return out


def _floats(column: pa.ChunkedArray) -> Array:
    """A float column as float64, NaN for nulls: a view of Arrow's buffer when it can be (one
    chunk of float64 without nulls, as a row group of a stored file is), else a copy. A fresh
    copy is not free: its pages are first touched then, about as costly as decoding them."""
    if not pa.types.is_floating(column.type) or arrow_numpy.number_dtype(column.type) is None:
        return np.asarray(column.to_numpy(), dtype=np.float64)  # another type: Arrow's way
    return np.asarray(arrow_numpy.numbers(column, np.nan), dtype=np.float64)


def _take(columns: dict[str, Array], rows: slice | Array) -> dict[str, Array]:
    return {name: values[rows] for name, values in columns.items()}


def _concat(parts: list[dict[str, Array]]) -> dict[str, Array]:
    if len(parts) == 1:
        return parts[0]
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}


class SignalFile:
    """One stored signal_evaluations file, opened for reading its metric columns."""

    def __init__(self, path: Path):
        self.path = path
        # Read, not memory-mapped: a mapped file's pages would stay in the process's RSS.
        self.file = pq.ParquetFile(path, read_dictionary=["action"])
        names = set(self.file.schema_arrow.names)
        self.read = [c for c in READ if c in names]
        self.ts_type = self.file.schema_arrow.field("ts").type
        meta = self.file.metadata.metadata or {}
        self.sorted_on_write = meta.get(SORTED_KEY) == b"1"

    def _ts_bounds(self, group: int) -> tuple[int, int] | None:
        """The row group's ts range from its statistics (None when it has none)."""
        meta = self.file.metadata.row_group(group)
        index = self.file.schema_arrow.get_field_index("ts")
        stats = meta.column(index).statistics
        if stats is None or not stats.has_min_max:
            return None
        low, high = stats.min, stats.max
        if not isinstance(low, int):  # a timestamp: in ns, like the bounds we compare with
            low = int(pa.scalar(low, self.ts_type).cast(pa.int64()).as_py())
            high = int(pa.scalar(high, self.ts_type).cast(pa.int64()).as_py())
            unit = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}[self.ts_type.unit]
            low, high = low * unit, high * unit + unit - 1
        return int(low), int(high)

    def _groups(self, lo: int | None, hi: int | None) -> list[int]:
        keep = []
        for g in range(self.file.metadata.num_row_groups):
            bounds = self._ts_bounds(g) if lo is not None or hi is not None else None
            if bounds is not None and (
                (lo is not None and bounds[1] < lo) or (hi is not None and bounds[0] > hi)
            ):
                continue  # the filter, pushed into the scan: this group is never decoded
            keep.append(g)
        return keep

    def days(self, lo: int | None = None, hi: int | None = None) -> Iterator[DayRows]:
        """Every day with rows in [lo, hi] (None: unbounded), in day order, rows in time order."""
        groups = self._groups(lo, hi)
        whole = self._day_groups() if lo is None and hi is None else None
        if whole is not None:
            # A row group per day, in time order (as ingest writes): ts is not even decoded.
            for g, (number, span) in zip(groups, whole, strict=True):
                table = self.file.read_row_group(g, columns=[c for c in self.read if c != "ts"])
                if table.num_rows:
                    yield DayRows(number, span, columns_of(table))
            return
        if not (self.sorted_on_write or self._in_time_order(groups)):
            yield from self._days_sorted(groups, lo, hi)
            return
        carry: list[dict[str, Array]] = []
        for g in groups:
            columns = columns_of(self.file.read_row_group(g, columns=self.read))
            columns = _restrict(columns, lo, hi)
            if not len(columns["ts"]):
                continue
            day = columns["ts"] // NS_PER_DAY
            cuts = np.flatnonzero(day[1:] != day[:-1]) + 1
            if carry and int(carry[0]["ts"][0] // NS_PER_DAY) != int(day[0]):
                yield _day(_concat(carry))
                carry = []
            starts = [0, *cuts.tolist()]
            ends = [*cuts.tolist(), len(day)]
            for a, b in zip(starts[:-1], ends[:-1], strict=True):
                part = _take(columns, slice(a, b))
                yield _day(_concat([*carry, part]))
                carry = []
            carry.append(_take(columns, slice(starts[-1], ends[-1])))
        if carry:
            yield _day(_concat(carry))

    def _day_groups(self) -> list[tuple[int, tuple[int, int]]] | None:
        """(day, ts span) of each row group, if the file is in time order with one per day."""
        if not self.sorted_on_write or not pa.types.is_integer(self.ts_type):
            return None
        out: list[tuple[int, tuple[int, int]]] = []
        for g in range(self.file.metadata.num_row_groups):
            bounds = self._ts_bounds(g)
            if bounds is None or bounds[0] // NS_PER_DAY != bounds[1] // NS_PER_DAY:
                return None
            if out and bounds[0] // NS_PER_DAY <= out[-1][0]:
                return None  # a day in two groups: take the general path
            out.append((bounds[0] // NS_PER_DAY, bounds))
        return out

    def _in_time_order(self, groups: list[int]) -> bool:
        """Whether the groups' rows are in time order (a cheap pass over the ts column)."""
        last = None
        for g in groups:
            ts = _ts_ns(self.file.read_row_group(g, columns=["ts"]).column("ts"))
            if len(ts) == 0:
                continue
            if (last is not None and ts[0] < last) or bool(np.any(ts[1:] < ts[:-1])):
                return False
            last = int(ts[-1])
        return True

    def _days_sorted(self, groups: list[int], lo: int | None, hi: int | None) -> Iterator[DayRows]:
        """A file not in time order (written by an earlier version): read whole, sorted stably."""
        if not groups:
            return
        columns = _restrict(
            columns_of(self.file.read_row_groups(groups, columns=self.read)), lo, hi
        )
        order = np.argsort(columns["ts"], kind="stable")
        columns = _take(columns, order)
        day = columns["ts"] // NS_PER_DAY
        cuts = [0, *(np.flatnonzero(day[1:] != day[:-1]) + 1).tolist(), len(day)]
        for a, b in itertools.pairwise(cuts):
            if b > a:
                yield _day(_take(columns, slice(a, b)))


def _restrict(columns: dict[str, Array], lo: int | None, hi: int | None) -> dict[str, Array]:
    if lo is None and hi is None:
        return columns
    ts = columns["ts"]
    keep = np.ones(len(ts), dtype=bool)
    if lo is not None:
        keep &= ts >= lo
    if hi is not None:
        keep &= ts <= hi
    return columns if keep.all() else _take(columns, keep)


def _day(columns: dict[str, Array]) -> DayRows:
    ts = columns["ts"]
    return DayRows(int(ts[0] // NS_PER_DAY), (int(ts.min()), int(ts.max())), columns)


def merge_days(parts: list[DayRows]) -> DayRows:
    """One day's rows from several files (in file order), stably in time order, as a full
    load of all the files would give them."""
    columns = _concat([p.columns for p in parts])
    ts = columns["ts"]
    if len(ts) > 1 and bool(np.any(ts[1:] < ts[:-1])):
        columns = _take(columns, np.argsort(ts, kind="stable"))
    return _day(columns)


def count_after(path: Path, limit: int) -> int:
    """Rows stamped later than `limit` in one file (a filter on ts pushed into the scan)."""
    f = SignalFile(path)
    total = 0
    for g in f._groups(limit + 1, None):
        ts = _ts_ns(f.file.read_row_group(g, columns=["ts"]).column("ts"))
        total += int(np.count_nonzero(ts > limit))
    return total
