"""Per-day Spearman information coefficient without a per-row Python loop.

Within each day, values are ranked with ties averaged (scipy.stats.rankdata's 'average') and the
Pearson correlation of the two rank vectors is taken; that is scipy.stats.spearmanr. Days with
fewer than two distinct values in either series are skipped (spearmanr is undefined there).

Ranking is the whole cost, so it avoids `argsort`: each value's IEEE-754 bits are made
order-preserving, the lowest bits are swapped for the row index and the packed keys are sorted
with NumPy's SIMD `sort` (about 3x faster than `argsort` here). Values that differ only in the
dropped bits collide; those few runs are re-ordered exactly, so ranks equal rankdata's bit for
bit. Days are few and large, and NumPy releases the GIL while it sorts, so days run on every core.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

F = NDArray[np.float64]
Ints = NDArray[np.int64]
B = NDArray[np.bool_]

_MAGNITUDE = (1 << 63) - 1


class _Workspace:
    """Buffers one thread reuses day after day.

    Fresh multi-megabyte temporaries cost a page fault per 4 KiB on every call, about as much
    as the sort itself, so each worker thread allocates these once.
    """

    def __init__(self, n: int) -> None:
        self.row, self.counting = _counting(n)
        self.key = np.empty(n, dtype=np.int64)
        self.scratch = np.empty(n, dtype=np.int64)
        self.same = np.empty(n, dtype=bool)
        self.ranks = (np.empty(n, dtype=np.float64), np.empty(n, dtype=np.float64))


_COUNTING: list[tuple[Ints, F]] = []
_counting_lock = threading.Lock()


def _counting(n: int) -> tuple[Ints, F]:
    """0..n-1 and 1..n, read-only and shared by every thread's workspace (grown, never shrunk)."""
    with _counting_lock:
        if not _COUNTING or len(_COUNTING[0][0]) < n:
            row = np.arange(n, dtype=np.int64)
            counting = np.arange(1, n + 1, dtype=np.float64)
            row.flags.writeable = counting.flags.writeable = False
            _COUNTING[:] = [(row, counting)]
        return _COUNTING[0]


def average_ranks(values: F) -> F:
    """1-based ranks with ties averaged; `values` must be finite."""
    return _ranks(values, _Workspace(len(values)), 0).copy()


def _ranks(values: F, ws: _Workspace, slot: int) -> F:
    """Ranks of `values`, written into the workspace's rank buffer `slot`."""
    n = len(values)
    bits = max(1, (n - 1).bit_length())
    low = (1 << bits) - 1
    key, scratch = ws.key[:n], ws.scratch[:n]
    np.add(values, 0.0, out=key.view(np.float64))  # adding 0.0 folds -0.0 into +0.0: a tie
    np.right_shift(key, 63, out=scratch)  # arithmetic: -1 for negatives, 0 otherwise
    scratch &= _MAGNITUDE
    key ^= scratch  # negatives' magnitude bits reversed: signed order is now value order
    key &= ~low
    key |= ws.row[:n]
    key.sort()
    same = ws.same[: n - 1]
    np.bitwise_xor(key[1:], key[:-1], out=scratch[: n - 1])
    np.less_equal(scratch[: n - 1], low, out=same)  # equal once the row bits are ignored
    index = key
    index &= low  # the sorted keys are spent: reuse them as the row index
    at = np.flatnonzero(same)
    if at.size:
        differ = values[index[at]] != values[index[at + 1]]
        if differ.any():
            _order_collisions(values, index, same, at, differ)
        at = at[values[index[at]] == values[index[at + 1]]]
    ranks = ws.ranks[slot][:n]
    if not at.size:
        ranks[index] = ws.counting[:n]
        return ranks
    new_run = np.ones(n, dtype=bool)
    new_run[at + 1] = False
    run_id = np.cumsum(new_run) - 1
    run_start = np.flatnonzero(new_run)
    run_len = np.diff(np.append(run_start, n))
    ranks[index] = (run_start + (run_len + 1) / 2.0)[run_id]
    return ranks


def _order_collisions(values: F, index: Ints, same: B, at: Ints, differ: B) -> None:
    """Sort exactly, in place, the runs of equal truncated keys that hold unequal values."""
    run_of_at = np.cumsum(np.concatenate(([True], np.diff(at) != 1)))
    chosen = at[np.isin(run_of_at, run_of_at[differ])]
    pos = np.union1d(chosen, chosen + 1)
    run = np.cumsum(np.concatenate(([True], ~same[pos[1:] - 1])))
    index[pos] = index[pos][np.lexsort((values[index[pos]], run))]


def _spearman(x: F, y: F, ws: _Workspace) -> float | None:
    """Spearman's rho of two equal-length finite samples; None where it is undefined."""
    n = len(x)
    if n < 2:
        return None
    # Average ranks always sum to n(n+1)/2, so both means are exactly (n+1)/2.
    centre = (n + 1) / 2.0
    dx = _ranks(x, ws, 0)
    dx -= centre
    dy = _ranks(y, ws, 1)
    dy -= centre
    # einsum, not BLAS: OpenBLAS would start its own threads inside ours and halve throughput.
    sxx, syy = float(np.einsum("i,i->", dx, dx)), float(np.einsum("i,i->", dy, dy))
    if sxx == 0.0 or syy == 0.0:
        return None
    return float(np.einsum("i,i->", dx, dy)) / float(np.sqrt(sxx * syy))


def day_spearman(x: F, y: F, rows: B | None, ws: _Workspace | None) -> float | None:
    """One day's IC: the rows selected by `rows` (all if None) whose values are both finite.
    Without `ws`, this thread's buffers are used."""
    if ws is None:
        ws = workspace(len(x))
    keep = np.isfinite(x) & np.isfinite(y)
    if rows is not None:
        keep &= rows
    if not keep.all():
        x, y = x[keep], y[keep]
    return _spearman(x, y, ws)


def workspace(n: int) -> _Workspace:
    """This thread's buffers for days of up to `n` rows (grown, never shrunk)."""
    ws: _Workspace | None = getattr(_local, "ws", None)
    if ws is None or len(ws.key) < n:
        ws = _local.ws = _Workspace(n)
    return ws


_local = threading.local()


def day_segments(days: Ints) -> tuple[Ints, list[slice] | list[Ints]]:
    """(distinct days, each day's rows): slices when rows come in day order, else indices."""
    ordered = len(days) == 0 or bool(np.all(days[1:] >= days[:-1]))
    order = None if ordered else np.argsort(days, kind="stable")
    sorted_days = days if order is None else days[order]
    cuts = np.flatnonzero(sorted_days[1:] != sorted_days[:-1]) + 1
    starts = np.concatenate(([0], cuts)).astype(np.int64)
    if order is None:
        ends = np.append(cuts, len(days))
        return sorted_days[starts], [slice(a, b) for a, b in zip(starts, ends, strict=True)]
    return sorted_days[starts], np.split(order, cuts)


def _length(rows: slice | Ints) -> int:
    return int(rows.stop - rows.start) if isinstance(rows, slice) else len(rows)


@dataclass(frozen=True)
class DailyIC:
    days: Ints  # the days that had a defined IC
    ic: F

    @property
    def mean(self) -> float | None:
        return float(self.ic.mean()) if len(self.ic) else None

    @property
    def negative_fraction(self) -> float | None:
        return float((self.ic < 0).mean()) if len(self.ic) else None


def daily_spearman(days: Ints, scores: F, returns: F, rows: B | None = None) -> DailyIC:
    """Spearman correlation of `scores` and `returns` within each day.

    `rows` optionally selects the rows that count; like non-finite values, the others are
    dropped day by day inside the workers rather than by a serial pass over the whole window.
    """
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return start_daily_spearman(pool, days, scores, returns, rows)()


def start_daily_spearman(
    pool: Executor, days: Ints, scores: F, returns: F, rows: B | None = None
) -> Callable[[], DailyIC]:
    """Queue every day on `pool` now; the returned call waits for them and assembles the IC."""
    if len(days) == 0:
        return lambda: DailyIC(np.array([], dtype=np.int64), np.array([], dtype=np.float64))
    distinct, segments = day_segments(days)
    longest = max(_length(s) for s in segments)
    workspaces = threading.local()

    def one_day(day_rows: slice | Ints) -> float | None:
        ws = getattr(workspaces, "ws", None)
        if ws is None:
            ws = workspaces.ws = _Workspace(longest)
        keep = None if rows is None else rows[day_rows]
        return day_spearman(scores[day_rows], returns[day_rows], keep, ws)

    jobs = [pool.submit(one_day, rows_of_day) for rows_of_day in segments]

    def collect() -> DailyIC:
        results = [job.result() for job in jobs]
        defined = np.array([r is not None for r in results], dtype=bool)
        ic = np.array([r for r in results if r is not None], dtype=np.float64)
        return DailyIC(distinct[defined].astype(np.int64), ic)

    return collect
