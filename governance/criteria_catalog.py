"""The vocabulary of promotion criteria: every name a report, a record, a waiver and the UI use.

Each transition lists its criteria; a policy may waive only a name listed for that transition.
How each is measured is in `governance/criteria.py` and the README's policy section.
"""

from __future__ import annotations

from dataclasses import dataclass

from governance.report import Comparator
from governance.stages import Transition

GE, LE = Comparator.AT_LEAST, Comparator.AT_MOST


@dataclass(frozen=True)
class CriterionSpec:
    comparator: Comparator
    unit: str
    meaning: str


CATALOG: dict[str, CriterionSpec] = {
    "coverage": CriterionSpec(GE, "fraction", "valid non-HOLD signals / scheduled evaluations"),
    "hit_rate": CriterionSpec(GE, "fraction", "directional signals matching the return's sign"),
    "ic_mean": CriterionSpec(GE, "rho", "mean over days of Spearman(score, forward return)"),
    "ic_negative_day_fraction": CriterionSpec(LE, "fraction", "share of days with negative IC"),
    "lift": CriterionSpec(
        GE,
        "fraction",
        "hit rate minus the better baseline: always the majority direction, or random with the "
        "strategy's own BUY/SELL frequencies (discrete strategies)",
    ),
    "calibration_monotonic_buckets": CriterionSpec(
        GE,
        "buckets",
        "most confidence buckets whose hit rates rise (non-decreasing) with confidence",
    ),
    "schema_error_rate": CriterionSpec(LE, "fraction", "evaluations with schema/parse errors"),
    "stale_rate": CriterionSpec(LE, "fraction", "evaluations on stale marketdata"),
    "missing_field_rate": CriterionSpec(LE, "fraction", "evaluation ticks with missing fields"),
    "evaluation_error_rate": CriterionSpec(LE, "fraction", "evaluation ticks that raised"),
    "clock_skew_violations": CriterionSpec(
        LE, "count", "evidence or risk-event timestamps in the future beyond the allowed skew"
    ),
    "window_return": CriterionSpec(GE, "fraction", "compounded return over the window"),
    "sharpe_daily": CriterionSpec(GE, "ratio", "mean/std(ddof=1) of daily returns x sqrt(252)"),
    "max_drawdown": CriterionSpec(LE, "fraction", "largest fall of end-of-day value from a peak"),
    "hwm_drawdown": CriterionSpec(
        LE, "fraction", "largest fall of equity from its high-water mark, fill by fill"
    ),
    "daily_loss_breach_days": CriterionSpec(
        LE, "days", "days whose realized P&L fell below -daily_loss_limit x starting equity"
    ),
    "turnover": CriterionSpec(LE, "x equity", "average daily traded notional / portfolio value"),
    "quote_freshness": CriterionSpec(GE, "fraction", "fills whose quote age is within the max"),
    "fill_failure_rate": CriterionSpec(LE, "fraction", "attempted fills that failed"),
    "concentration_breaches": CriterionSpec(
        LE, "fills", "fills leaving a position above the concentration limit"
    ),
    "vix_warning_denial_days": CriterionSpec(
        LE, "days", "days with a named warning breaker and repeated risk denials"
    ),
    "worst_day_return": CriterionSpec(GE, "fraction", "worst single-day return"),
    "decision_latency_p50": CriterionSpec(LE, "ms", "median decision-to-order latency"),
    "slippage_bps_p50": CriterionSpec(LE, "bps", "median of abs(fill - expected) / expected"),
    "slippage_bias_bps": CriterionSpec(
        LE, "bps", "abs(mean signed slippage), adverse positive by the order's side"
    ),
    "risk_denial_rate": CriterionSpec(LE, "fraction", "orders denied by the risk service"),
    "order_api_error_rate": CriterionSpec(LE, "fraction", "orders that hit a broker API error"),
}

BY_TRANSITION: dict[Transition, tuple[str, ...]] = {
    Transition.OBSERVE_TO_SHADOW: (
        "coverage",
        "hit_rate",
        "ic_mean",
        "ic_negative_day_fraction",
        "lift",
        "calibration_monotonic_buckets",
        "schema_error_rate",
        "stale_rate",
        "clock_skew_violations",
    ),
    Transition.SHADOW_TO_PAPER: (
        "window_return",
        "sharpe_daily",
        "max_drawdown",
        "hwm_drawdown",
        "daily_loss_breach_days",
        "turnover",
        "concentration_breaches",
        "vix_warning_denial_days",
        "quote_freshness",
        "fill_failure_rate",
        "missing_field_rate",
        "evaluation_error_rate",
        "stale_rate",
        "clock_skew_violations",
    ),
    Transition.PAPER_TO_LIVE: (
        "window_return",
        "max_drawdown",
        "hwm_drawdown",
        "worst_day_return",
        "daily_loss_breach_days",
        "decision_latency_p50",
        "slippage_bps_p50",
        "slippage_bias_bps",
        "risk_denial_rate",
        "order_api_error_rate",
        "clock_skew_violations",
    ),
}
