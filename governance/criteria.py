"""Every promotion criterion of the spec's section 1, measured on a window of evidence.

Names come from one vocabulary (CRITERIA below); the report, the record's metrics snapshot and
the approver UI all use it.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

import numpy as np

from governance.evidence_columns import EvidenceBundle, PaperOrders, ShadowFills, SignalEvaluations
from governance.metrics import returns as ret
from governance.metrics import signal_quality as sq
from governance.metrics.ranking import DailyIC, start_daily_spearman
from governance.policy import PromotionPolicy
from governance.stages import Transition

CRITERIA = {
    "coverage": "valid non-HOLD signal payloads / scheduled evaluations",
    "hit_rate": "signals whose direction matched the forward return's sign",
    "ic_mean": "mean over days of Spearman(score, forward return)",
    "ic_negative_day_fraction": "share of days with negative IC",
    "calibration_monotonic_buckets": "confidence buckets whose hit rate is monotone",
    "lift": "hit rate over a random 50% baseline (discrete strategies)",
    "schema_error_rate": "evaluations with input schema/parse errors",
    "window_return": "compounded return over the window",
    "sharpe_daily": "mean/std(ddof=1) of daily returns x sqrt(252)",
    "max_drawdown": "largest peak-to-trough fall of cumulative value",
    "turnover": "average daily traded notional / portfolio value",
    "quote_freshness": "fills whose quote age is within the configured maximum",
    "missing_field_rate": "evaluation ticks with missing/NaN fields",
    "evaluation_error_rate": "evaluation ticks that raised",
    "fill_failure_rate": "attempted fills that failed",
    "concentration_breaches": "fills leaving a position above the concentration limit",
    "vix_warning_denial_days": "days with VIX-guard warnings and repeated risk denials",
    "worst_day_return": "worst single-day return",
    "decision_latency_p50": "median decision-to-order latency (ms)",
    "slippage_bps_p50": "median |fill - expected| / expected in basis points",
    "risk_denial_rate": "orders denied by the risk service",
    "order_api_error_rate": "orders that hit a broker API error",
}

Op = Literal[">=", "<="]


@dataclass(frozen=True)
class Measured:
    name: str
    op: Op
    threshold: float
    value: float | None
    evidence: str

    @property
    def passed(self) -> bool:
        if self.value is None:
            return False  # unmeasurable fails closed
        return self.value >= self.threshold if self.op == ">=" else self.value <= self.threshold

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "comparison": self.op,
            "threshold": self.threshold,
            "value": self.value,
            "passed": self.passed,
            "evidence": self.evidence,
        }


@dataclass(frozen=True)
class Measurement:
    criteria: list[Measured]
    daily_ic: DailyIC | None = None  # kept for the report's chart, computed once


def measure(transition: Transition, bundle: EvidenceBundle, policy: PromotionPolicy) -> Measurement:
    if transition == Transition.OBSERVE_TO_SHADOW:
        return _observe_to_shadow(bundle.signals, policy)
    if transition == Transition.SHADOW_TO_PAPER:
        return Measurement(_shadow_to_paper(bundle, policy))
    return Measurement(_paper_to_live(bundle.orders, policy))


def _observe_to_shadow(s: SignalEvaluations | None, policy: PromotionPolicy) -> Measurement:
    q = policy.signal_quality_thresholds.observe_to_shadow
    di = policy.data_integrity_thresholds
    ev = "signal_evaluations"
    if s is None or len(s) == 0:
        return Measurement([Measured("coverage", ">=", q.coverage_min, None, ev)])
    # Criteria count valid rows only; masks rather than copies keep 10M-row windows cheap.
    keep = s.valid
    scored = bool(np.any(np.isfinite(s.score) & keep))
    # The IC's days (ranking: most of the work) go to one worker per core first; this thread
    # measures the rest meanwhile, the calibration's sort included.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        pending_ic = (
            start_daily_spearman(pool, s.day, s.score, s.fwd_return, keep) if scored else None
        )
        d = sq.directions(s.score, s.action)
        h = sq.hits(d, s.fwd_return, keep)
        out = [
            Measured("coverage", ">=", q.coverage_min, sq.coverage(s.valid, d), ev),
            Measured("hit_rate", ">=", q.hit_rate_min, sq.hit_rate(h), ev),
        ]
        calibrated = bool(np.any(np.isfinite(s.confidence) & keep))
        buckets = (
            sq.calibration_monotonic_buckets(s.confidence, h, q.calibration_buckets)
            if calibrated
            else None
        )
        ic = None if pending_ic is None else pending_ic()
    if ic is None:
        out.append(Measured("lift", ">=", q.lift_min, sq.lift(h), ev))
    else:
        out.append(Measured("ic_mean", ">=", q.ic_mean_min, ic.mean, ev))
        out.append(
            Measured(
                "ic_negative_day_fraction",
                "<=",
                q.ic_negative_day_fraction_max,
                ic.negative_fraction,
                ev,
            )
        )
    if calibrated:
        out.append(
            Measured(
                "calibration_monotonic_buckets",
                ">=",
                q.calibration_monotonic_buckets_min,
                None if buckets is None else float(buckets),
                ev,
            )
        )
    out.append(
        Measured("schema_error_rate", "<=", di.schema_error_rate_max, sq.rate(s.schema_error), ev)
    )
    return Measurement(out, ic)


def _shadow_to_paper(bundle: EvidenceBundle, policy: PromotionPolicy) -> list[Measured]:
    q = policy.signal_quality_thresholds.shadow_to_paper
    di, risk = policy.data_integrity_thresholds, policy.risk_thresholds
    f, s, ev = bundle.fills, bundle.signals, "shadow_fills"
    out: list[Measured] = []
    if f is None or len(f) == 0:
        return [Measured("window_return", ">=", q.window_return_min, None, ev)]
    attempted = f
    filled = f.where(~f.fill_failed)
    _, daily = ret.daily_returns(filled.day, filled.equity, filled.pnl)
    out += [
        Measured("window_return", ">=", q.window_return_min, ret.window_return(daily), ev),
        Measured("sharpe_daily", ">=", q.sharpe_daily_min, ret.sharpe(daily), ev),
        Measured("max_drawdown", "<=", q.max_drawdown_max, ret.max_drawdown(daily), ev),
        Measured(
            "turnover",
            "<=",
            q.turnover_max,
            ret.average_turnover(filled.day, filled.notional, filled.equity),
            ev,
        ),
        Measured(
            "quote_freshness",
            ">=",
            di.quote_freshness_min,
            sq.rate(filled.quote_age_ms <= di.max_quote_age_ms),
            ev,
        ),
        Measured(
            "fill_failure_rate", "<=", di.fill_failure_rate_max, sq.rate(attempted.fill_failed), ev
        ),
        Measured(
            "concentration_breaches",
            "<=",
            float(risk.concentration_breach_allowance),
            float(np.sum(filled.position_weight > risk.concentration_limit)),
            ev,
        ),
        Measured(
            "vix_warning_denial_days",
            "<=",
            float(risk.vix_warnings_with_denials_max),
            _vix_denial_days(bundle, f),
            "risk_events+shadow_fills",
        ),
    ]
    if s is not None and len(s):
        out.append(
            Measured(
                "missing_field_rate",
                "<=",
                di.missing_field_rate_max,
                sq.rate(s.missing_fields),
                "signal_evaluations",
            )
        )
        out.append(
            Measured(
                "evaluation_error_rate",
                "<=",
                di.evaluation_error_rate_max,
                sq.rate(s.error),
                "signal_evaluations",
            )
        )
    return out


def _vix_denial_days(bundle: EvidenceBundle, fills: ShadowFills) -> float:
    """Days on which the VIX guard warned and the risk service denied more than once."""
    r = bundle.risk
    if r is None or len(r) == 0:
        return 0.0
    warned = set(r.day[(r.kind == "circuit_breaker_warning")].tolist())
    denials = fills.day[fills.risk_denied]
    days, counts = np.unique(denials, return_counts=True)
    repeated = set(days[counts >= 2].tolist())
    return float(len(warned & repeated))


def _paper_to_live(o: PaperOrders | None, policy: PromotionPolicy) -> list[Measured]:
    q = policy.signal_quality_thresholds.paper_to_live
    di, risk, ev = policy.data_integrity_thresholds, policy.risk_thresholds, "paper_orders"
    if o is None or len(o) == 0:
        return [Measured("window_return", ">=", q.window_return_min, None, ev)]
    filled = o.where(np.isfinite(o.fill_price) & ~o.api_error & ~o.risk_denied)
    _, daily = ret.daily_returns(filled.day, filled.equity, filled.pnl)
    slippage = np.abs(filled.fill_price - filled.expected_price) / filled.expected_price * 1e4
    return [
        Measured("window_return", ">=", q.window_return_min, ret.window_return(daily), ev),
        Measured("max_drawdown", "<=", q.max_drawdown_max, ret.max_drawdown(daily), ev),
        Measured("worst_day_return", ">=", q.worst_day_return_min, ret.worst_day(daily), ev),
        Measured(
            "decision_latency_p50",
            "<=",
            q.decision_latency_p50_ms_max,
            float(np.median(o.decision_to_order_ms)),
            ev,
        ),
        Measured(
            "slippage_bps_p50",
            "<=",
            q.slippage_bps_p50_max,
            float(np.median(slippage)) if len(slippage) else None,
            ev,
        ),
        Measured("risk_denial_rate", "<=", risk.risk_denial_rate_max, sq.rate(o.risk_denied), ev),
        Measured(
            "order_api_error_rate", "<=", di.order_api_error_rate_max, sq.rate(o.api_error), ev
        ),
    ]
