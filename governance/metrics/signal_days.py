"""Signal evaluations summarised one UTC day at a time, so that days add up to a window.

Every OBSERVE criterion is a function of per-day counts (coverage, hit rate, lift, error and
flag rates, the window's counters), of per-day values (the daily IC is computed within a day),
or of the window's confidence quantiles. Counts add up exactly. Quantiles do not, so a day keeps
its counted confidences sorted and the window's edges are selected across the days exactly
(`signal_quality.calibration_of_runs`). A window computed from days therefore equals the window
computed from its rows bit for bit, whether the days come from columns in memory or from
partial results kept beside immutable evidence files (the `evidence` package).

A day's rows must be in time order, ties in the order they were stored (the order the IC's sums
are taken in): `day_stats` is given them so.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from governance.evidence_columns import B, F, Flags, Ints, SignalEvaluations
from governance.metrics import signal_quality as sq
from governance.metrics.ranking import DailyIC, day_segments, day_spearman, workspace

FLAGS = ("missing_fields", "schema_error", "marketdata_stale")
# Integer counts of a day, in this order (also the columns evidence files keep them in).
COUNTS = (
    "rows",
    "valid",
    "directional",  # valid rows with a direction (coverage; SHADOW's signals counter)
    "scored",  # valid rows with a finite score (the strategy is continuous, so it has an IC)
    "counted",  # valid rows with a direction and a realised, non-zero forward return
    "hit",
    "up",  # counted rows whose forward return was positive
    "buy",  # counted rows with a positive direction
    "errors",
    *(f"{name}_{what}" for name in FLAGS for what in ("reported", "set")),
    "hits_inf_up",  # hits whose confidence is +inf / -inf (outside the finite runs)
    "hits_inf_down",
)


@dataclass(frozen=True)
class DayStats:
    day: int
    min_ts: int
    max_ts: int
    counts: dict[str, int]
    ic: float | None  # the day's Spearman IC; None where it is undefined
    confidence: F = field(repr=False)  # sorted finite confidences of the counted rows
    hit: B = field(repr=False)  # whether each of those rows (in that order) is a hit


def day_stats(
    day: int,
    span: tuple[int, int],
    direction: F,
    score: F,
    fwd_return: F,
    confidence: F,
    valid: B,
    error: B,
    flags: Sequence[Flags],
    ic_pool: Executor | None = None,
) -> DayStats:
    """One day's summary; the conventions are signal_quality's, row for row. `span` is the
    earliest and latest ts of the rows (the window a kept summary can stand for whole).

    With `ic_pool`, the IC (two rank sorts) runs there while this thread counts and sorts the
    confidences: one day on two cores, for a file of one session.
    """
    pending = (
        ic_pool.submit(day_spearman, score, fwd_return, valid, None)
        if ic_pool is not None
        else None
    )
    directed = direction != 0
    counted = directed & np.isfinite(fwd_return) & (fwd_return != 0) & valid
    hit = counted & ((fwd_return > 0) == (direction > 0))
    counts = {
        "rows": len(direction),
        "valid": int(np.count_nonzero(valid)),
        "directional": int(np.count_nonzero(valid & directed)),
        "scored": int(np.count_nonzero(valid & np.isfinite(score))),
        "counted": int(np.count_nonzero(counted)),
        "hit": int(np.count_nonzero(hit)),
        "up": int(np.count_nonzero(counted & (fwd_return > 0))),
        "buy": int(np.count_nonzero(counted & (direction > 0))),
        "errors": int(np.count_nonzero(error)),
    }
    for name, values in zip(FLAGS, flags, strict=True):
        counts[f"{name}_reported"] = int(np.count_nonzero(values >= 0))
        counts[f"{name}_set"] = int(np.count_nonzero(values > 0))
    counts["hits_inf_up"] = int(np.count_nonzero(hit & (confidence == np.inf)))
    counts["hits_inf_down"] = int(np.count_nonzero(hit & (confidence == -np.inf)))
    ranked, hits = sorted_with_flags(confidence, counted & np.isfinite(confidence), hit)
    if pending is not None:
        ic = pending.result()
    else:
        ic = day_spearman(score, fwd_return, valid, workspace(len(direction)))
    return DayStats(day, span[0], span[1], counts, ic, ranked, hits)


def sorted_with_flags(values: F, rows: B, flags: B) -> tuple[F, B]:
    """values[rows] sorted, and flags[rows] in the same order.

    Confidences lie in [0, 1]: their IEEE bits, shifted left, leave the lowest bit for the flag,
    so one integer sort orders both (ties: unflagged first; counts never depend on tie order).
    Other values take a stable argsort.
    """
    ranked = values[rows]
    np.add(ranked, 0.0, out=ranked)  # -0.0 is 0.0 (a tie), and its bits are then >= 0
    flagged = flags[rows]
    if len(ranked) == 0 or not (ranked.min() >= 0.0 and ranked.max() < 2.0):
        order = np.argsort(ranked, kind="stable")
        return ranked[order], flagged[order]
    key = ranked.view(np.int64)
    key <<= 1  # bits of [0, 2) are below 2**62: no overflow
    key |= flagged
    key.sort()
    hit = (key & 1).astype(bool)
    key >>= 1
    return key.view(np.float64), hit


class SignalWindow:
    """The window's signal evaluations, as the days that make it up (in day order)."""

    def __init__(self, days: list[DayStats]):
        self.days = days

    @cached_property
    def totals(self) -> dict[str, int]:
        return {name: sum(d.counts[name] for d in self.days) for name in COUNTS}

    def __len__(self) -> int:
        return self.totals["rows"]

    def coverage(self) -> float | None:
        t = self.totals
        return float(t["directional"] / t["rows"]) if t["rows"] else None

    def hit_rate(self) -> float | None:
        return sq.hit_rate_of(self.totals["hit"], self.totals["counted"])

    def lift(self) -> float | None:
        t = self.totals
        return sq.lift_of(self.hit_rate(), sq.baseline_of(t["up"], t["buy"], t["counted"]))

    def error_rate(self) -> float | None:
        t = self.totals
        return float(t["errors"] / t["rows"]) if t["rows"] else None

    def flag_rate(self, name: str) -> float | None:
        reported, flagged = self.totals[f"{name}_reported"], self.totals[f"{name}_set"]
        return float(flagged / reported) if reported else None

    @property
    def scored(self) -> bool:
        return self.totals["scored"] > 0

    def daily_ic(self) -> DailyIC:
        defined = [d for d in self.days if d.ic is not None]
        return DailyIC(
            np.array([d.day for d in defined], dtype=np.int64),
            np.array([d.ic for d in defined], dtype=np.float64),
        )

    def has_confidence(self) -> bool:
        return any(len(d.confidence) for d in self.days)

    def calibration(self, buckets: int) -> int | None:
        return sq.calibration_of_flagged_runs(
            [d.confidence for d in self.days],
            [d.hit for d in self.days],
            self.totals["hits_inf_up"],
            self.totals["hits_inf_down"],
            buckets,
        )

    def daily_hit_rate(self) -> tuple[Ints, F]:
        """Days with counted signals, and their hit rates."""
        days = [d for d in self.days if d.counts["counted"]]
        return (
            np.array([d.day for d in days], dtype=np.int64),
            np.array([d.counts["hit"] / d.counts["counted"] for d in days], dtype=np.float64),
        )


class ColumnSummary:
    """A SignalSummary of columns in memory: each day of a window summarised on demand."""

    def __init__(self, signals: SignalEvaluations):
        self.signals = signals

    def days(self, start_ns: int, end_ns: int) -> list[DayStats]:
        s = self.signals.between(start_ns, end_ns)
        if len(s) == 0:
            return []
        return summarise(s, sq.directions(s.score, s.action))

    def rows_after(self, ts_ns: int) -> int:
        return int(np.count_nonzero(self.signals.ts > ts_ns))


def summarise(s: SignalEvaluations, direction: F) -> list[DayStats]:
    """Every day of `s` (rows in time order), one day per task on every core.

    NumPy releases the GIL in the sorts and the elementwise passes, so days run in parallel.
    """
    distinct, found = day_segments(s.day)
    segments: list[slice | Ints] = list(found)
    flags = [s.missing_fields, s.schema_error, s.marketdata_stale]

    def one(day: int, rows: slice | Ints) -> DayStats:
        ts = s.ts[rows]
        return day_stats(
            day,
            (int(ts.min()), int(ts.max())),
            direction[rows],
            s.score[rows],
            s.fwd_return[rows],
            s.confidence[rows],
            s.valid[rows],
            s.error[rows],
            [f[rows] for f in flags],
        )

    if len(segments) == 1:
        return [one(int(distinct[0]), segments[0])]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        jobs = [pool.submit(one, int(d), rows) for d, rows in zip(distinct, segments, strict=True)]
        return [job.result() for job in jobs]
