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


def lift(h: Hits) -> float | None:
    """Hit rate over the 50% of a random directional baseline (discrete strategies)."""
    rate = hit_rate(h)
    return None if rate is None else rate - 0.5


def calibration_monotonic_buckets(confidence: F, h: Hits, buckets: int) -> int | None:
    """How many of `buckets` confidence buckets keep hit rate monotone in confidence.

    Buckets are confidence quantiles (NumPy's default 'linear' method); bucket k holds the
    confidences in [edge k, edge k+1). The lowest bucket counts as monotone by definition and
    each further bucket counts when its hit rate is at least the previous bucket's. A perfectly
    calibrated strategy scores `buckets`.
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
    return int(1 + np.sum(rates[1:] >= rates[:-1]))


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
