"""Realistic synthetic evidence for demos, tests and benchmarks.

A strategy with `edge` > 0 has scores that predict forward returns (IC ~ edge), confident
signals that hit more often, and positive expectancy in shadow and paper; `edge` = 0 is noise.
Gaps, errors and missing fields appear at the given rates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import exchange_calendars as xcals
import numpy as np
import pandas as pd

from evidence.files import FileEvidenceSource
from governance.records import EvidenceRef

Columns = dict[str, np.ndarray[Any, Any]]


@dataclass(frozen=True)
class Spec:
    sessions: int = 25
    symbols: int = 50
    evals_per_session: int = 400
    fills_per_session: int = 20
    orders_per_session: int = 12
    edge: float = 0.15
    noise: float = 1.0
    gap_rate: float = 0.02
    error_rate: float = 0.0002
    seed: int = 7
    calendar: str = "XNYS"
    end: date | None = None  # last session (default: the latest session before today)


def session_days(spec: Spec) -> pd.DatetimeIndex:
    end = pd.Timestamp(spec.end or date.today()).normalize()
    start = end - pd.Timedelta(days=spec.sessions * 3 + 30)
    cal = xcals.get_calendar(spec.calendar, start=start, end=end)
    # A start on a weekend or holiday is before the calendar's first session.
    sessions = cal.sessions_in_range(max(start, cal.first_session), end)
    if spec.end is None and len(sessions) and sessions[-1] >= end:
        sessions = sessions[:-1]  # today's session is not over
    return sessions[-spec.sessions :]


def _times(rng: np.random.Generator, days: pd.DatetimeIndex, per_day: int) -> np.ndarray[Any, Any]:
    """Sorted UTC nanoseconds inside each session (14:30-21:00 UTC)."""
    base = days.tz_localize("UTC").as_unit("ns").asi8.repeat(per_day)
    offset = rng.uniform(14.5 * 3600, 21 * 3600, size=len(base)) * 1e9
    within = np.sort(offset.reshape(len(days), per_day), axis=1).ravel()
    return (base + within).astype(np.int64)


def signal_evaluations(spec: Spec, rng: np.random.Generator, days: pd.DatetimeIndex) -> Columns:
    n = len(days) * spec.evals_per_session
    score = rng.normal(size=n)
    fwd = spec.edge * score + spec.noise * rng.normal(size=n)
    confidence = 1.0 / (1.0 + np.exp(-np.abs(score)))  # stronger signals are more confident
    valid = rng.random(n) >= spec.gap_rate
    return {
        "ts": _times(rng, days, spec.evals_per_session),
        "symbol": np.array([f"SYM{i:04d}" for i in rng.integers(0, spec.symbols, n)]),
        "score": np.where(valid, score, np.nan),
        "action": np.where(score > 0.05, "BUY", np.where(score < -0.05, "SELL", "HOLD")),
        "confidence": np.round(confidence, 6),
        "valid": valid,
        "error": rng.random(n) < spec.error_rate,
        "fwd_return": np.round(fwd * 0.01, 8),
        "missing_fields": rng.random(n) < spec.error_rate,
        "schema_error": rng.random(n) < spec.error_rate / 2,
        "marketdata_stale": rng.random(n) < spec.error_rate,
    }


def _equity(rng: np.random.Generator, n_days: int, per_day: int, edge: float) -> tuple[Any, Any]:
    daily = rng.normal(0.0012 * edge / 0.15, 0.003, size=n_days)
    per_fill = np.repeat(daily / per_day, per_day)
    equity = 1_000_000.0 * np.cumprod(1.0 + per_fill)
    pnl = equity - np.concatenate(([1_000_000.0], equity[:-1]))
    return pnl, equity


def shadow_fills(spec: Spec, rng: np.random.Generator, days: pd.DatetimeIndex) -> Columns:
    n = len(days) * spec.fills_per_session
    pnl, equity = _equity(rng, len(days), spec.fills_per_session, spec.edge)
    return {
        "ts": _times(rng, days, spec.fills_per_session),
        "symbol": np.array([f"SYM{i:04d}" for i in rng.integers(0, spec.symbols, n)]),
        "quote_age_ms": np.round(rng.exponential(150.0, size=n), 3),
        "fill_failed": np.zeros(n, dtype=bool),
        "position_weight": np.round(rng.uniform(0.01, 0.15, size=n), 6),
        "notional": np.round(equity * 0.04, 2),
        "pnl": pnl,
        "equity": equity,
        "risk_denied": np.zeros(n, dtype=bool),
    }


def paper_orders(spec: Spec, rng: np.random.Generator, days: pd.DatetimeIndex) -> Columns:
    n = len(days) * spec.orders_per_session
    pnl, equity = _equity(rng, len(days), spec.orders_per_session, spec.edge)
    expected = np.round(rng.uniform(20, 400, size=n), 4)
    return {
        "ts": _times(rng, days, spec.orders_per_session),
        "symbol": np.array([f"SYM{i:04d}" for i in rng.integers(0, spec.symbols, n)]),
        "decision_to_order_ms": np.round(rng.gamma(4.0, 25.0, size=n), 3),
        "expected_price": expected,
        "fill_price": np.round(expected * (1 + rng.normal(0, 3e-4, size=n)), 4),
        "api_error": np.zeros(n, dtype=bool),
        "risk_denied": np.zeros(n, dtype=bool),
        "notional": np.round(equity * 0.04, 2),
        "pnl": pnl,
        "equity": equity,
    }


def generate(
    source: FileEvidenceSource, tenant_id: str, uid: str, strategy_id: str, spec: Spec
) -> tuple[pd.Timestamp, list[EvidenceRef]]:
    """Write every kind for one strategy; returns the first session (the stage entry) and refs."""
    rng = np.random.default_rng(spec.seed)
    days = session_days(spec)
    refs = [
        source.write(
            tenant_id, uid, strategy_id, "signal_evaluations", signal_evaluations(spec, rng, days)
        ),
        source.write(tenant_id, uid, strategy_id, "shadow_fills", shadow_fills(spec, rng, days)),
        source.write(tenant_id, uid, strategy_id, "paper_orders", paper_orders(spec, rng, days)),
    ]
    return days[0].tz_localize("UTC"), refs
