"""Measuring every promotion criterion of the spec's section 1 on a window of evidence.

Each criterion is measured as a value, or as None with what is missing: nothing here decides
pass or fail (`eligibility` applies thresholds, comparators and waivers, from the catalog).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from governance.evidence_columns import EvidenceBundle, F, Ints, PaperOrders, ShadowFills
from governance.metrics import returns as ret
from governance.metrics import signal_quality as sq
from governance.metrics.ranking import DailyIC
from governance.metrics.signal_days import SignalWindow
from governance.policy import PromotionPolicy
from governance.stages import Transition


@dataclass(frozen=True)
class Measured:
    name: str
    threshold: float
    value: float | None
    evidence: str
    missing: str | None = None  # why there is no value
    # No value because the window holds no evidence of its kind yet (it may still arrive),
    # rather than evidence it cannot be computed from.
    awaiting: bool = False


@dataclass(frozen=True)
class Measurement:
    criteria: list[Measured]
    daily_ic: DailyIC | None = None  # kept for the report's chart, computed once


def measure(
    transition: Transition,
    bundle: EvidenceBundle,
    policy: PromotionPolicy,
    signals: SignalWindow | None,
) -> Measurement:
    """`bundle` holds the window's fills, orders and risk events; `signals` its evaluations."""
    if transition == Transition.OBSERVE_TO_SHADOW:
        return _observe_to_shadow(signals, policy)
    if transition == Transition.SHADOW_TO_PAPER:
        return Measurement(_shadow_to_paper(bundle, signals, policy))
    return Measurement(_paper_to_live(bundle.orders, policy))


def _value(
    name: str, threshold: float, value: float | None, evidence: str, missing: str
) -> Measured:
    return Measured(name, threshold, value, evidence, None if value is not None else missing)


def _flag(name: str, threshold: float, s: SignalWindow, column: str, evidence: str) -> Measured:
    return _value(
        name,
        threshold,
        s.flag_rate(column),
        evidence,
        f"the evidence does not report `{column}`",
    )


def _none(names_thresholds: list[tuple[str, float]], evidence: str, why: str) -> list[Measured]:
    return [Measured(n, t, None, evidence, why, awaiting=True) for n, t in names_thresholds]


# -- OBSERVE -> SHADOW ---------------------------------------------------------------------------
def _observe_to_shadow(s: SignalWindow | None, policy: PromotionPolicy) -> Measurement:
    q = policy.signal_quality_thresholds.observe_to_shadow
    di = policy.data_integrity_thresholds
    ev = "signal_evaluations"
    if s is None or len(s) == 0:
        return Measurement(
            _none(
                [
                    ("coverage", q.coverage_min),
                    ("hit_rate", q.hit_rate_min),
                    ("ic_mean", q.ic_mean_min),
                    ("ic_negative_day_fraction", q.ic_negative_day_fraction_max),
                    ("calibration_monotonic_buckets", q.calibration_monotonic_buckets_min),
                    ("schema_error_rate", di.schema_error_rate_max),
                    ("stale_rate", di.stale_rate_max),
                ],
                ev,
                "no signal evaluations in the window",
            )
        )
    # Criteria count valid rows only (the days' summaries did, row by row).
    no_hits = "no directional signal has a realised, non-zero forward return"
    out = [
        _value("coverage", q.coverage_min, s.coverage(), ev, "no evaluations"),
        _value("hit_rate", q.hit_rate_min, s.hit_rate(), ev, no_hits),
    ]
    calibration = _calibration(s, q.calibration_buckets, q.calibration_monotonic_buckets_min)
    ic = s.daily_ic() if s.scored else None
    if ic is None:
        out.append(_value("lift", q.lift_min, s.lift(), ev, no_hits))
    else:
        no_day = "no day with two distinct scores and returns"
        out.append(_value("ic_mean", q.ic_mean_min, ic.mean, ev, no_day))
        out.append(
            _value(
                "ic_negative_day_fraction",
                q.ic_negative_day_fraction_max,
                ic.negative_fraction,
                ev,
                no_day,
            )
        )
    out += [
        calibration,
        _flag("schema_error_rate", di.schema_error_rate_max, s, "schema_error", ev),
        _flag("stale_rate", di.stale_rate_max, s, "marketdata_stale", ev),
    ]
    return Measurement(out, ic)


def _calibration(s: SignalWindow, buckets: int, minimum: float) -> Measured:
    ev = "signal_evaluations"
    if not s.has_confidence():
        why = "the evidence has no confidence values for its counted signals"
        return Measured("calibration_monotonic_buckets", minimum, None, ev, why)
    value = s.calibration(buckets)
    return _value(
        "calibration_monotonic_buckets",
        minimum,
        None if value is None else float(value),
        ev,
        f"fewer counted signals than {buckets} buckets, or confidences too coarse to split",
    )


# -- SHADOW -> PAPER -----------------------------------------------------------------------------
def _shadow_to_paper(
    bundle: EvidenceBundle, signals: SignalWindow | None, policy: PromotionPolicy
) -> list[Measured]:
    q = policy.signal_quality_thresholds.shadow_to_paper
    di, risk = policy.data_integrity_thresholds, policy.risk_thresholds
    f, ev = bundle.fills, "shadow_fills"
    names = [
        ("window_return", q.window_return_min),
        ("sharpe_daily", q.sharpe_daily_min),
        ("max_drawdown", q.max_drawdown_max),
        ("hwm_drawdown", risk.drawdown_breaker),
        ("daily_loss_breach_days", 0.0),
        ("turnover", q.turnover_max),
        ("concentration_breaches", float(risk.concentration_breach_allowance)),
        ("vix_warning_denial_days", float(risk.vix_warnings_with_denials_max)),
        ("quote_freshness", di.quote_freshness_min),
        ("fill_failure_rate", di.fill_failure_rate_max),
    ]
    if f is None or len(f) == 0:
        out = _none(names, ev, "no shadow fills in the window")
    else:
        out = _fills(f, bundle, policy)
    return out + _signal_integrity(signals, policy)


def _fills(f: ShadowFills, bundle: EvidenceBundle, policy: PromotionPolicy) -> list[Measured]:
    q = policy.signal_quality_thresholds.shadow_to_paper
    di, risk = policy.data_integrity_thresholds, policy.risk_thresholds
    ev = "shadow_fills"
    filled = f.where(~f.fill_failed)
    out = _pnl(filled.day, filled.equity, filled.pnl, q.window_return_min, q.max_drawdown_max, ev)
    out.insert(1, _value("sharpe_daily", q.sharpe_daily_min, _sharpe(filled), ev, _NO_SHARPE))
    out += [
        _value(
            "hwm_drawdown",
            risk.drawdown_breaker,
            ret.hwm_drawdown(filled.equity, filled.pnl),
            ev,
            "no completed fills",
        ),
        _value(
            "daily_loss_breach_days",
            0.0,
            ret.loss_days(_daily(filled.day, filled.equity, filled.pnl), risk.daily_loss_limit),
            ev,
            "no completed fills",
        ),
        _value(
            "turnover",
            q.turnover_max,
            ret.average_turnover(filled.day, filled.notional, filled.equity),
            ev,
            "no completed fills",
        ),
        _value(
            "concentration_breaches",
            float(risk.concentration_breach_allowance),
            float(np.sum(filled.position_weight > risk.concentration_limit)),
            ev,
            "no completed fills",
        ),
        _vix_denial_days(bundle, f, policy),
        _value(
            "quote_freshness",
            di.quote_freshness_min,
            sq.rate(filled.quote_age_ms <= di.max_quote_age_ms),
            ev,
            "no completed fills",
        ),
        _value(
            "fill_failure_rate",
            di.fill_failure_rate_max,
            sq.rate(f.fill_failed),
            ev,
            "no attempted fills",
        ),
    ]
    return out


_NO_SHARPE = "fewer than two days of returns, or a constant daily return (no Sharpe)"


def _daily(day: Ints, equity: F, pnl: F) -> F:
    return ret.daily_returns(day, equity, pnl)[1]


def _sharpe(filled: ShadowFills) -> float | None:
    return ret.sharpe(_daily(filled.day, filled.equity, filled.pnl))


def _pnl(
    day: Ints,
    equity: F,
    pnl: F,
    return_min: float,
    drawdown_max: float,
    ev: str,
) -> list[Measured]:
    daily = _daily(day, equity, pnl)
    why = f"no completed {ev.replace('_', ' ')} in the window"
    return [
        _value("window_return", return_min, ret.window_return(daily), ev, why),
        _value("max_drawdown", drawdown_max, ret.max_drawdown(daily), ev, why),
    ]


def _signal_integrity(s: SignalWindow | None, policy: PromotionPolicy) -> list[Measured]:
    """SHADOW's data quality and error rate come from its signal evaluations: required."""
    di, ev = policy.data_integrity_thresholds, "signal_evaluations"
    if s is None or len(s) == 0:
        return _none(
            [
                ("missing_field_rate", di.missing_field_rate_max),
                ("evaluation_error_rate", di.evaluation_error_rate_max),
                ("stale_rate", di.stale_rate_max),
            ],
            ev,
            "no signal evaluations in the window",
        )
    return [
        _flag("missing_field_rate", di.missing_field_rate_max, s, "missing_fields", ev),
        _value(
            "evaluation_error_rate",
            di.evaluation_error_rate_max,
            s.error_rate(),
            ev,
            "no evaluations",
        ),
        _flag("stale_rate", di.stale_rate_max, s, "marketdata_stale", ev),
    ]


def _vix_denial_days(
    bundle: EvidenceBundle, fills: ShadowFills, policy: PromotionPolicy
) -> Measured:
    """Days on which a named warning breaker fired and the risk service denied repeatedly."""
    risk = policy.risk_thresholds
    ev = "risk_events+shadow_fills"
    name, allowed = "vix_warning_denial_days", float(risk.vix_warnings_with_denials_max)
    if not np.any(fills.risk_denied >= 0):
        return Measured(name, allowed, None, ev, "the evidence does not report `risk_denied`")
    r = bundle.risk
    if r is None or len(r) == 0:
        return Measured(name, allowed, 0.0, ev)
    warned = set(r.day[np.isin(r.kind, risk.coinciding_warning_kinds)].tolist())
    days, counts = np.unique(fills.day[fills.risk_denied > 0], return_counts=True)
    repeated = set(days[counts >= risk.repeated_denials_min].tolist())
    return Measured(name, allowed, float(len(warned & repeated)), ev)


# -- PAPER -> LIVE -------------------------------------------------------------------------------
def _paper_to_live(o: PaperOrders | None, policy: PromotionPolicy) -> list[Measured]:
    q = policy.signal_quality_thresholds.paper_to_live
    di, risk, ev = policy.data_integrity_thresholds, policy.risk_thresholds, "paper_orders"
    if o is None or len(o) == 0:
        return _none(
            [
                ("window_return", q.window_return_min),
                ("max_drawdown", q.max_drawdown_max),
                ("hwm_drawdown", risk.drawdown_breaker),
                ("worst_day_return", q.worst_day_return_min),
                ("daily_loss_breach_days", 0.0),
                ("decision_latency_p50", q.decision_latency_p50_ms_max),
                ("slippage_bps_p50", q.slippage_bps_p50_max),
                ("slippage_bias_bps", q.slippage_bias_bps_max),
                ("risk_denial_rate", risk.risk_denial_rate_max),
                ("order_api_error_rate", di.order_api_error_rate_max),
            ],
            ev,
            "no paper orders in the window",
        )
    filled = o.where(np.isfinite(o.fill_price) & ~o.api_error & ~o.risk_denied)
    daily = _daily(filled.day, filled.equity, filled.pnl)
    no_fill = "no filled paper orders in the window"
    # Adverse slippage is positive: paying up on a buy, selling below on a sell.
    side = np.where(filled.notional < 0, -1.0, 1.0)
    signed = side * (filled.fill_price - filled.expected_price) / filled.expected_price * 1e4
    out = _pnl(filled.day, filled.equity, filled.pnl, q.window_return_min, q.max_drawdown_max, ev)
    return [
        *out,
        _value(
            "hwm_drawdown",
            risk.drawdown_breaker,
            ret.hwm_drawdown(filled.equity, filled.pnl),
            ev,
            no_fill,
        ),
        _value("worst_day_return", q.worst_day_return_min, ret.worst_day(daily), ev, no_fill),
        _value(
            "daily_loss_breach_days", 0.0, ret.loss_days(daily, risk.daily_loss_limit), ev, no_fill
        ),
        _value(
            "decision_latency_p50",
            q.decision_latency_p50_ms_max,
            float(np.median(o.decision_to_order_ms)),
            ev,
            "no orders",
        ),
        _value(
            "slippage_bps_p50",
            q.slippage_bps_p50_max,
            float(np.median(np.abs(signed))) if len(signed) else None,
            ev,
            no_fill,
        ),
        _value(
            "slippage_bias_bps",
            q.slippage_bias_bps_max,
            float(abs(np.mean(signed))) if len(signed) else None,
            ev,
            no_fill,
        ),
        _value(
            "risk_denial_rate", risk.risk_denial_rate_max, sq.rate(o.risk_denied), ev, "no orders"
        ),
        _value(
            "order_api_error_rate",
            di.order_api_error_rate_max,
            sq.rate(o.api_error),
            ev,
            "no orders",
        ),
    ]
