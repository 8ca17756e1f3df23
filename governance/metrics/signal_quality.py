"""Signal quality of OBSERVE: coverage, hit rate, calibration, lift.

Direction of a signal: the sign of its score, or BUY = +1 / SELL = -1 / HOLD = 0 for discrete
strategies. A hit is a non-zero direction whose sign matches the realised forward return's;
signals with no direction, zero or missing forward returns are not counted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

F = NDArray[np.float64]
B = NDArray[np.bool_]
Ints = NDArray[np.int64]

ACTION_SIGN = {"BUY": 1.0, "SELL": -1.0, "HOLD": 0.0}


def directions(scores: F, actions: NDArray[np.str_]) -> F:
    out = np.sign(scores)
    unscored = ~np.isfinite(scores)
    if unscored.any():  # only discrete rows pay for string comparisons
        acts = actions[unscored]
        out[unscored] = np.select([acts == "BUY", acts == "SELL"], [1.0, -1.0], 0.0)
    return out


def coverage(valid: B, directions_: F) -> float | None:
    """Share of scheduled evaluations that produced a valid, non-HOLD signal payload."""
    if len(valid) == 0:
        return None
    return float(np.mean(valid & (directions_ != 0)))


class Hits(NamedTuple):
    counted: B  # rows with a direction and a realised, non-zero forward return
    hit: B  # counted rows whose direction matched


def hits(directions_: F, fwd_returns: F, rows: B | None = None) -> Hits:
    """Computed once per report: hit rate, lift and calibration all read it.

    `rows` optionally limits the count to those rows (the valid evaluations).
    """
    counted = (directions_ != 0) & np.isfinite(fwd_returns) & (fwd_returns != 0)
    if rows is not None:
        counted &= rows
    # Both sides are non-zero where counted, so signs match exactly when both are positive or
    # both negative; boolean masks avoid a float temporary the size of the window.
    return Hits(counted, counted & ((fwd_returns > 0) == (directions_ > 0)))


def hit_rate(h: Hits) -> float | None:
    return hit_rate_of(int(np.count_nonzero(h.hit)), int(np.count_nonzero(h.counted)))


def hit_rate_of(hit: int, counted: int) -> float | None:
    """The hit rate from counts (counts add up across days and files; rates do not)."""
    return float(hit / counted) if counted else None


def baseline_hit_rate(directions_: F, fwd_returns: F, h: Hits) -> float | None:
    """The hit rate a strategy without skill gets on the same signals: the better of

    - always the majority direction of the forward returns (e.g. always BUY in a rising
      market), and
    - random directions drawn with the strategy's own BUY/SELL frequencies.

    The second never beats the first (it mixes p_up and 1 - p_up), so it is the majority rate;
    both are kept in the definition because the spec names both baselines.
    """
    return baseline_of(
        int(np.count_nonzero(h.counted & (fwd_returns > 0))),
        int(np.count_nonzero(h.counted & (directions_ > 0))),
        int(np.count_nonzero(h.counted)),
    )


def baseline_of(up: int, buy: int, counted: int) -> float | None:
    """The baseline from counts: counted rows that went up, and that the strategy bought."""
    n = counted
    if n == 0:
        return None
    p_up = float(up / n)
    f_buy = float(buy / n)
    majority = max(p_up, 1.0 - p_up)
    random_like = f_buy * p_up + (1.0 - f_buy) * (1.0 - p_up)
    return max(majority, random_like)


def lift(directions_: F, fwd_returns: F, h: Hits) -> float | None:
    """Hit rate over the baseline's (discrete strategies): 0 means no skill at all."""
    return lift_of(hit_rate(h), baseline_hit_rate(directions_, fwd_returns, h))


def lift_of(rate: float | None, base: float | None) -> float | None:
    return None if rate is None or base is None else rate - base


def calibration_monotonic_buckets(confidence: F, h: Hits, buckets: int) -> int | None:
    """How many of `buckets` confidence buckets have hit rates that rise with confidence.

    Buckets are confidence quantiles (NumPy's default 'linear' method); bucket k holds the
    confidences in [edge k, edge k+1). The count is the largest number of buckets whose hit
    rates, taken in confidence order, never decrease (the longest non-decreasing subsequence):
    "4/5" means four of the five buckets lie on one rising line and at most one is out of it.
    A perfectly calibrated strategy scores `buckets`. None when there are fewer counted signals
    than buckets, or a bucket is empty (confidences too coarse to split).
    """
    ordered = confidence[h.counted & np.isfinite(confidence)]
    ordered.sort()  # a private copy: a SIMD sort in place beats np.quantile's partition
    # NaN confidences never compare true, so hits are every hit with a confidence.
    hit_confidences = confidence[h.hit & ~np.isnan(confidence)]
    hit_confidences.sort()
    return calibration_of_runs([ordered], [hit_confidences], buckets)


def calibration_of_runs(counted: list[F], hit: list[F], buckets: int) -> int | None:
    """`calibration_monotonic_buckets` on sorted runs (one per day, say) of the counted rows'
    finite confidences and of the hit rows' confidences.

    Quantiles do not add up across days, so the edges are found exactly: each order statistic
    is selected across the runs by bisection (`order_statistics`), giving np.quantile's edges
    of the whole window bit for bit without merging the runs.
    """

    def hits_at_least(edges: F) -> Ints:
        none = np.zeros(len(edges), dtype=np.int64)
        below = sum((np.searchsorted(r, edges, side="left") for r in hit), start=none)
        total = sum(len(r) for r in hit)
        return np.concatenate(([total], total - below))

    return _calibration(counted, hits_at_least, buckets)


def calibration_of_flagged_runs(
    counted: list[F], hit: list[B], hits_up: int, hits_down: int, buckets: int
) -> int | None:
    """The same, with each run's hits as flags aligned with it (one sort a day, not two) and
    the hits whose confidence is +inf (`hits_up`, above every edge) or -inf (`hits_down`)."""

    def hits_at_least(edges: F) -> Ints:
        at = [np.searchsorted(r, edges, side="left") for r in counted]
        flagged = [int(np.count_nonzero(f)) for f in hit]
        above = [
            sum(int(np.count_nonzero(f[int(i[k]) :])) for f, i in zip(hit, at, strict=True))
            for k in range(len(edges))
        ]
        total = sum(flagged) + hits_up + hits_down
        return np.array([total, *(a + hits_up for a in above)], dtype=np.int64)

    return _calibration(counted, hits_at_least, buckets)


def _calibration(counted: list[F], hits_at_least: Callable[[F], Ints], buckets: int) -> int | None:
    n = sum(len(r) for r in counted)
    if n < buckets:
        return None
    edges = quantiles_of_runs(counted, np.arange(1, buckets) / buckets)
    # Rows at or above each edge, and hits among them; bucket counts are their differences.
    none = np.zeros(len(edges), dtype=np.int64)
    below_edge = sum((np.searchsorted(r, edges, side="left") for r in counted), start=none)
    at_least = np.concatenate(([n], n - below_edge, [0]))
    hits = np.concatenate((hits_at_least(edges), [0]))
    size = at_least[:-1] - at_least[1:]
    if np.any(size == 0):
        return None
    rates = (hits[:-1] - hits[1:]) / size
    return longest_non_decreasing(rates)


def longest_non_decreasing(values: F) -> int:
    """Length of the longest non-decreasing subsequence (a handful of buckets: O(k^2))."""
    best = [1] * len(values)
    for i in range(len(values)):
        for j in range(i):
            if values[j] <= values[i]:
                best[i] = max(best[i], best[j] + 1)
    return max(best, default=0)


def quantiles_of_sorted(ordered: F, q: F) -> F:
    """np.quantile(x, q) (method 'linear') given x already sorted, to the last bit."""
    return quantiles_of_runs([ordered], q)


def quantiles_of_runs(runs: list[F], q: F) -> F:
    """np.quantile of the runs' union (each run sorted), to the last bit."""
    n = sum(len(r) for r in runs)
    virtual = q * (n - 1)
    below = np.floor(virtual).astype(np.intp)
    above = np.minimum(below + 1, n - 1)
    gamma = virtual - below
    if len(runs) == 1:
        a, b = runs[0][below], runs[0][above]
    else:
        found = order_statistics(runs, [int(k) for k in below] + [int(k) for k in above])
        a = np.array(found[: len(below)], dtype=np.float64)
        b = np.array(found[len(below) :], dtype=np.float64)
    diff = b - a
    # NumPy's lerp: interpolate from whichever end is nearer, for monotone rounding.
    return np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)


def rate(flags: B) -> float | None:
    return float(np.mean(flags)) if len(flags) else None


def flag_rate(flags: NDArray[np.int8]) -> float | None:
    """Share of reported rows whose tri-state flag is set; None if no row reported it."""
    reported = flags >= 0
    n = int(np.count_nonzero(reported))
    return float(np.count_nonzero(flags > 0) / n) if n else None


_MAGNITUDE = (1 << 63) - 1


def _key(value: float) -> int:
    """An integer in the order of the floats (adding 0.0 makes -0.0 and 0.0 one key)."""
    bits = int(np.float64(value + 0.0).view(np.int64))
    return bits ^ _MAGNITUDE if bits < 0 else bits


def _value(key: int) -> float:
    bits = key ^ _MAGNITUDE if key < 0 else key
    return float(np.int64(bits).view(np.float64))


def order_statistic(runs: list[F], k: int) -> float:
    """The k-th smallest (0-based) value of the union of sorted, finite runs."""
    return order_statistics(runs, [k])[0]


def order_statistics(runs: list[F], ks: list[int]) -> list[float]:
    """The ks-th smallest (0-based) values of the union of sorted, finite runs.

    Bisection on the values' order-preserving integer keys, all ks at once: the answer for k
    is the smallest key with more than k values at or below it, which is always a value present
    in some run. Each of about 64 steps is one vectorised binary search per run (a few pages
    of a memory-mapped run), whatever the number of ks.
    """
    present = [r for r in runs if len(r)]
    low = _key(min(float(r[0]) for r in present))
    high = _key(max(float(r[-1]) for r in present))
    lo, hi = [low] * len(ks), [high] * len(ks)
    while any(a < b for a, b in zip(lo, hi, strict=True)):
        mid = [(a + b) // 2 for a, b in zip(lo, hi, strict=True)]
        values = np.array([_value(m) for m in mid], dtype=np.float64)
        at_or_below = sum(
            (np.searchsorted(r, values, side="right") for r in present),
            start=np.zeros(len(ks), dtype=np.int64),
        )
        for j, k in enumerate(ks):
            if lo[j] < hi[j]:
                if at_or_below[j] > k:
                    hi[j] = mid[j]
                else:
                    lo[j] = mid[j] + 1
    return [_value(key) for key in lo]
