"""Signal quality of OBSERVE: coverage, hit rate, calibration, lift.

Direction of a signal: the sign of its score, or BUY = +1 / SELL = -1 / HOLD = 0 for discrete
strategies. A hit is a non-zero direction whose sign matches the realised forward return's;
signals with no direction, zero or missing forward returns are not counted.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

F = NDArray[np.float64]
B = NDArray[np.bool_]

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
    n = int(np.count_nonzero(h.counted))
    return float(np.count_nonzero(h.hit) / n) if n else None


def baseline_hit_rate(directions_: F, fwd_returns: F, h: Hits) -> float | None:
    """The hit rate a strategy without skill gets on the same signals: the better of

    - always the majority direction of the forward returns (e.g. always BUY in a rising
      market), and
    - random directions drawn with the strategy's own BUY/SELL frequencies.

    The second never beats the first (it mixes p_up and 1 - p_up), so it is the majority rate;
    both are kept in the definition because the spec names both baselines.
    """
    n = int(np.count_nonzero(h.counted))
    if n == 0:
        return None
    p_up = float(np.count_nonzero(h.counted & (fwd_returns > 0)) / n)
    f_buy = float(np.count_nonzero(h.counted & (directions_ > 0)) / n)
    majority = max(p_up, 1.0 - p_up)
    random_like = f_buy * p_up + (1.0 - f_buy) * (1.0 - p_up)
    return max(majority, random_like)


def lift(directions_: F, fwd_returns: F, h: Hits) -> float | None:
    """Hit rate over the baseline's (discrete strategies): 0 means no skill at all."""
    rate, base = hit_rate(h), baseline_hit_rate(directions_, fwd_returns, h)
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
    counted = h.counted & np.isfinite(confidence)
    n = int(np.count_nonzero(counted))
    if n < buckets:
        return None
    ordered = confidence[counted]
    ordered.sort()  # a private copy: a SIMD sort in place beats np.quantile's partition
    edges = quantiles_of_sorted(ordered, np.arange(1, buckets) / buckets)
    # Rows at or above each edge, and hits among them; bucket counts are their differences.
    # NaN confidences compare false, so hits are counted on the full columns with no copy.
    at_least = np.concatenate(([n], n - np.searchsorted(ordered, edges, side="left"), [0]))
    hits_at_least = np.array(
        [np.count_nonzero(h.hit & (confidence >= e)) for e in (-np.inf, *edges)] + [0]
    )
    size = at_least[:-1] - at_least[1:]
    if np.any(size == 0):
        return None
    rates = (hits_at_least[:-1] - hits_at_least[1:]) / size
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
    virtual = q * (len(ordered) - 1)
    below = np.floor(virtual).astype(np.intp)
    above = np.minimum(below + 1, len(ordered) - 1)
    gamma = virtual - below
    a, b = ordered[below], ordered[above]
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
