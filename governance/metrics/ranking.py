"""Per-day Spearman information coefficient without a per-row Python loop.

Within each day, values are ranked with ties averaged (scipy.stats.rankdata's 'average') and the
Pearson correlation of the two rank vectors is taken; that is scipy.stats.spearmanr. Days with
fewer than two distinct values in either series are skipped (spearmanr is undefined there).

Days are few (one per session) and large, so the work is one vectorised pass per day; NumPy
releases the GIL while it sorts, so days are ranked on every core.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

F = NDArray[np.float64]
Ints = NDArray[np.int64]


def average_ranks(values: F) -> F:
    """1-based ranks with ties averaged."""
    n = len(values)
    order = np.argsort(values)
    ranks = np.empty(n, dtype=np.float64)
    v = values[order]
    ties = v[1:] == v[:-1]
    if not ties.any():
        ranks[order] = np.arange(1, n + 1, dtype=np.float64)
        return ranks
    new_run = np.ones(n, dtype=bool)
    new_run[1:] = ~ties
    run_id = np.cumsum(new_run) - 1
    run_start = np.flatnonzero(new_run)
    run_len = np.diff(np.append(run_start, n))
    ranks[order] = (run_start + (run_len + 1) / 2.0)[run_id]
    return ranks


def spearman(x: F, y: F) -> float | None:
    """Spearman's rho of two equal-length samples; None where it is undefined."""
    n = len(x)
    if n < 2:
        return None
    # Average ranks always sum to n(n+1)/2, so both means are exactly (n+1)/2.
    centre = (n + 1) / 2.0
    dx = average_ranks(x) - centre
    dy = average_ranks(y) - centre
    sxx, syy = float(dx @ dx), float(dy @ dy)
    if sxx == 0.0 or syy == 0.0:
        return None
    return float(dx @ dy) / float(np.sqrt(sxx * syy))


def day_segments(days: Ints) -> tuple[Ints, list[Ints]]:
    """(distinct days, row indices of each day), cheap when rows come in day order."""
    if len(days) and np.all(days[1:] >= days[:-1]):
        order = np.arange(len(days))
        sorted_days = days
    else:
        order = np.argsort(days, kind="stable")
        sorted_days = days[order]
    cuts = np.flatnonzero(sorted_days[1:] != sorted_days[:-1]) + 1
    starts = np.concatenate(([0], cuts)).astype(np.int64)
    return sorted_days[starts], np.split(order, cuts)


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


def daily_spearman(days: Ints, scores: F, returns: F) -> DailyIC:
    """Spearman correlation of `scores` and `returns` within each day."""
    keep = np.isfinite(scores) & np.isfinite(returns)
    if not keep.all():
        days, scores, returns = days[keep], scores[keep], returns[keep]
    if len(days) == 0:
        return DailyIC(np.array([], dtype=np.int64), np.array([], dtype=np.float64))
    distinct, segments = day_segments(days)

    def one_day(index: Ints) -> float | None:
        return spearman(scores[index], returns[index])

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = list(pool.map(one_day, segments))
    defined = np.array([r is not None for r in results], dtype=bool)
    ic = np.array([r for r in results if r is not None], dtype=np.float64)
    return DailyIC(distinct[defined].astype(np.int64), ic)
