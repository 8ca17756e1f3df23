"""Signal quality of OBSERVE: coverage, hit rate, calibration, lift.

Direction of a signal: the sign of its score, or BUY = +1 / SELL = -1 / HOLD = 0 for discrete
strategies. A hit is a non-zero direction whose sign matches the realised forward return's;
signals with no direction, zero or missing forward returns are not counted.
"""

from __future__ import annotations

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


def hits(directions_: F, fwd_returns: F) -> tuple[B, B]:
    """(counted, hit) masks."""
    counted = (directions_ != 0) & np.isfinite(fwd_returns) & (fwd_returns != 0)
    return counted, counted & (np.sign(fwd_returns) == directions_)


def hit_rate(directions_: F, fwd_returns: F) -> float | None:
    counted, hit = hits(directions_, fwd_returns)
    n = int(counted.sum())
    return float(hit.sum() / n) if n else None


def lift(directions_: F, fwd_returns: F) -> float | None:
    """Hit rate over the 50% of a random directional baseline (discrete strategies)."""
    rate = hit_rate(directions_, fwd_returns)
    return None if rate is None else rate - 0.5


def calibration_monotonic_buckets(
    confidence: F, directions_: F, fwd_returns: F, buckets: int
) -> int | None:
    """How many of `buckets` confidence buckets keep hit rate monotone in confidence.

    Buckets are confidence quantiles; the lowest bucket counts as monotone by definition and
    each further bucket counts when its hit rate is at least the previous bucket's. A perfectly
    calibrated strategy scores `buckets`.
    """
    counted, hit = hits(directions_, fwd_returns)
    counted &= np.isfinite(confidence)
    if counted.sum() < buckets:
        return None
    conf, ok = confidence[counted], hit[counted].astype(np.float64)
    edges = np.quantile(conf, np.linspace(0, 1, buckets + 1)[1:-1])
    bucket = np.zeros(len(conf), dtype=np.int64)
    for edge in edges:  # a handful of vectorised comparisons beats a binary search per row
        bucket += conf >= edge
    n = np.bincount(bucket, minlength=buckets)
    if np.any(n == 0):
        return None
    rates = np.bincount(bucket, ok, minlength=buckets) / n
    return int(1 + np.sum(rates[1:] >= rates[:-1]))


def rate(flags: B) -> float | None:
    return float(np.mean(flags)) if len(flags) else None
