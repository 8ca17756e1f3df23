"""The eligibility report: for a strategy and a target stage, every criterion of the policy with
its threshold, measured value and verdict, the stability window's progress, and an overall
verdict, hashed canonically. It is what records snapshot and what approvers are shown.

Verdicts: WAITING while the stability window is incomplete (sessions or counts below the
policy's minimums; a critical risk event inside the window restarts it) or a criterion cannot be
measured yet, then ELIGIBLE when every criterion passes, INELIGIBLE naming each that fails.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np

from governance.criteria import Measured, measure
from governance.evidence_columns import EvidenceBundle, PaperOrders, RiskEvents, ShadowFills
from governance.hashing import canonical_hash
from governance.metrics import returns as ret
from governance.metrics.ranking import DailyIC
from governance.metrics.sessions import sessions_between
from governance.policy import PromotionPolicy, StabilityWindow
from governance.stages import LifecycleStage, promotion_transition

SERIES_POINTS = 250


def build_report(
    *,
    bundle: EvidenceBundle,
    policy: PromotionPolicy,
    from_stage: LifecycleStage,
    target_stage: LifecycleStage,
    stage_entered_at: datetime | None,
    now: datetime,
) -> dict[str, Any]:
    transition = promotion_transition(from_stage, target_stage)
    entered = stage_entered_at or now
    start, restart = _window_start(bundle.risk, entered, now)
    start_ns, end_ns = _ns(start), _ns(now)
    window = EvidenceBundle(
        signals=bundle.signals.between(start_ns, end_ns) if bundle.signals else None,
        fills=bundle.fills.between(start_ns, end_ns) if bundle.fills else None,
        orders=bundle.orders.between(start_ns, end_ns) if bundle.orders else None,
        risk=bundle.risk.between(start_ns, end_ns) if bundle.risk else None,
        refs=bundle.refs,
    )
    need = policy.window_for(transition)
    progress = _progress(window, need, policy.calendar, start, now)
    measurement = measure(transition, window, policy)
    measured = measurement.criteria
    complete, shortfalls = _complete(progress, need)
    unmeasured = [m for m in measured if m.value is None]
    failed = [m for m in measured if not m.passed]
    if not complete:
        verdict, reasons = "WAITING", shortfalls
    elif unmeasured:
        # No evidence yet is not a failure of the strategy: wait for it (never ELIGIBLE).
        verdict, reasons = "WAITING", [_why(m) for m in unmeasured]
    elif failed:
        verdict, reasons = "INELIGIBLE", [_why(m) for m in failed]
    else:
        verdict, reasons = "ELIGIBLE", []
    if restart:
        reasons.append(f"stability window restarted at {restart} by a critical risk event")
    report: dict[str, Any] = {
        "verdict": verdict,
        "target_stage": target_stage.value,
        "transition": transition.value,
        "policy_version": policy.policy_version,
        "window": {
            **progress,
            "start": start.isoformat(),
            "end": now.isoformat(),
            "restarted_at": restart,
        },
        "criteria": [m.as_json() for m in measured],
        "reasons": reasons,
        "evidence": [r.model_dump() for r in bundle.refs],
        "series": _series(window, measurement.daily_ic),
    }
    report["metrics_hash"] = canonical_hash(report)
    return report


def _ns(value: datetime) -> int:
    return int(value.astimezone(UTC).timestamp() * 1e9)


def _window_start(
    risk: RiskEvents | None, entered: datetime, now: datetime
) -> tuple[datetime, str | None]:
    """The stage entry, or just after the last critical risk event since then."""
    if risk is None or len(risk) == 0:
        return entered, None
    critical = risk.between(_ns(entered), _ns(now))
    critical = critical.where(critical.severity == "critical")
    if len(critical) == 0:
        return entered, None
    last = datetime.fromtimestamp(int(critical.ts.max()) / 1e9 + 1e-6, tz=UTC)
    return last, last.isoformat()


def _progress(
    w: EvidenceBundle, need: StabilityWindow, calendar: str, start: datetime, end: datetime
) -> dict[str, Any]:
    evaluations = int(w.signals.valid.sum()) if w.signals else 0
    fills = int((~w.fills.fill_failed).sum()) if w.fills else 0
    orders = len(w.orders) if w.orders else 0
    return {
        "sessions": sessions_between(calendar, start, end),
        "sessions_required": need.min_sessions,
        "evaluations": evaluations,
        "evaluations_required": need.min_evaluations,
        "fills": fills,
        "fills_required": need.min_fills,
        "signals_if_low_turnover": need.min_signals_if_low_turnover,
        "orders": orders,
        "orders_required": need.min_orders,
    }


def _complete(p: dict[str, Any], need: StabilityWindow) -> tuple[bool, list[str]]:
    short = []
    if p["sessions"] < need.min_sessions:
        short.append(f"sessions {p['sessions']}/{need.min_sessions}")
    if p["evaluations"] < need.min_evaluations:
        short.append(f"evaluations {p['evaluations']}/{need.min_evaluations}")
    low_turnover_ok = (
        need.min_signals_if_low_turnover is not None
        and p["evaluations"] >= need.min_signals_if_low_turnover
    )
    if p["fills"] < need.min_fills and not low_turnover_ok:
        short.append(f"fills {p['fills']}/{need.min_fills}")
    if p["orders"] < need.min_orders:
        short.append(f"orders {p['orders']}/{need.min_orders}")
    return not short, [f"stability window not complete: {s}" for s in short]


def _why(m: Measured) -> str:
    if m.value is None:
        return f"{m.name}: not measurable yet on the window's evidence"
    return f"{m.name}: {m.value:.6g} fails {m.op} {m.threshold:g}"


def _series(w: EvidenceBundle, ic: DailyIC | None) -> dict[str, list[list[float]]]:
    """Small series for charts (at most SERIES_POINTS points each)."""
    out: dict[str, list[list[float]]] = {}
    source: ShadowFills | PaperOrders | None = None
    if w.fills is not None and len(w.fills):
        source = w.fills.where(~w.fills.fill_failed)
    if source is None and w.orders is not None and len(w.orders):
        source = w.orders.where(np.isfinite(w.orders.fill_price))
    if source is not None and len(source):
        days, daily = ret.daily_returns(source.day, source.equity, source.pnl)
        value = np.cumprod(1.0 + daily)
        drawdown = 1.0 - value / np.maximum.accumulate(np.maximum(value, 1.0))
        out["equity"] = _points(days, value)
        out["drawdown"] = _points(days, -drawdown)
    if ic is not None and len(ic.ic):
        out["daily_ic"] = _points(ic.days, ic.ic)
    return out


def _points(days: np.ndarray[Any, Any], values: np.ndarray[Any, Any]) -> list[list[float]]:
    step = max(1, len(days) // SERIES_POINTS)
    return [[int(d), round(float(v), 6)] for d, v in zip(days[::step], values[::step], strict=True)]
