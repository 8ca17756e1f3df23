"""The eligibility report: for a strategy and a target stage, every criterion of its transition
with comparator, threshold, measured value and status, the stability window's progress, and a
verdict, hashed canonically. It is what records snapshot and what approvers are shown.

Verdicts: WAITING while the stability window is incomplete (whole sessions in the stage, and the
counts, below the policy's minimums; a critical risk event inside the window restarts it); then
ELIGIBLE when every criterion passes or is waived by the policy, else INELIGIBLE naming each that
fails or cannot be measured (not measurable is never a pass).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np

from governance.criteria import Measured, measure
from governance.criteria_catalog import CATALOG
from governance.evidence_columns import (
    EvidenceBundle,
    PaperOrders,
    RiskEvents,
    ShadowFills,
    SignalSummary,
)
from governance.metrics import returns as ret
from governance.metrics.ranking import DailyIC
from governance.metrics.sessions import sessions_covered
from governance.metrics.signal_days import ColumnSummary, SignalWindow
from governance.policy import PromotionPolicy
from governance.records import Severity
from governance.report import (
    Comparator,
    Criterion,
    CriterionStatus,
    EligibilityReport,
    ReportSeries,
    Verdict,
    Waiver,
    WindowProgress,
)
from governance.risk_events import classify
from governance.stages import LifecycleStage, Transition, promotion_transition

SERIES_POINTS = 250


def build_report(
    *,
    bundle: EvidenceBundle,
    policy: PromotionPolicy,
    from_stage: LifecycleStage,
    target_stage: LifecycleStage,
    stage_entered_at: datetime | None,
    now: datetime,
) -> EligibilityReport:
    transition = promotion_transition(from_stage, target_stage)
    entered = stage_entered_at or now
    start, restart = window_start(bundle.risk, policy, entered, now)
    start_ns, end_ns = _ns(start), _ns(now)
    summary = signal_summary(bundle)
    signals = SignalWindow(summary.days(start_ns, end_ns)) if summary is not None else None
    window = EvidenceBundle(
        fills=bundle.fills.between(start_ns, end_ns) if bundle.fills else None,
        orders=bundle.orders.between(start_ns, end_ns) if bundle.orders else None,
        risk=bundle.risk.between(start_ns, end_ns) if bundle.risk else None,
        refs=bundle.refs,
    )
    measurement = measure(transition, window, policy, signals)
    measured = [*measurement.criteria, _clock_skew(bundle, summary, policy, now)]
    criteria = [_judge(m, transition, policy) for m in measured]
    progress = _progress(window, signals, policy, transition, start, now, restart, criteria)
    shortfalls = progress.shortfalls()
    awaiting = [c for c in criteria if c.awaiting]
    blocking = [c for c in criteria if not c.passed]
    if shortfalls or awaiting:
        verdict = Verdict.WAITING
        reasons = [f"stability window not complete: {s}" for s in shortfalls]
        reasons += [c.describe() for c in awaiting]
    elif blocking:
        verdict, reasons = Verdict.INELIGIBLE, [c.describe() for c in blocking]
    else:
        verdict, reasons = Verdict.ELIGIBLE, []
    if restart is not None:
        reasons.append(
            f"stability window restarted at {restart[0].isoformat()} by critical risk event "
            f"{restart[1]}"
        )
    return EligibilityReport(
        verdict=verdict,
        target_stage=target_stage,
        transition=transition,
        policy_version=policy.policy_version,
        window=progress,
        criteria=criteria,
        reasons=reasons,
        waivers=[
            Waiver(criterion=c.name, reason=c.why or "")
            for c in criteria
            if c.status == CriterionStatus.WAIVED
        ],
        evidence=bundle.refs,
        series=_series(window, signals, measurement.daily_ic),
    ).hashed()


def signal_summary(bundle: EvidenceBundle) -> SignalSummary | None:
    """The bundle's signals as per-day summaries: kept ones, or its columns summarised."""
    if bundle.signal_summary is not None:
        return bundle.signal_summary
    return ColumnSummary(bundle.signals) if bundle.signals is not None else None


def _judge(m: Measured, transition: Transition, policy: PromotionPolicy) -> Criterion:
    spec = CATALOG[m.name]
    if m.value is None:
        status = CriterionStatus.AWAITING_EVIDENCE if m.awaiting else CriterionStatus.NOT_MEASURABLE
    elif spec.comparator == Comparator.AT_LEAST:
        status = CriterionStatus.PASS if m.value >= m.threshold else CriterionStatus.FAIL
    else:
        status = CriterionStatus.PASS if m.value <= m.threshold else CriterionStatus.FAIL
    why = m.missing
    waiver = policy.waiver_for(transition, m.name)
    if waiver is not None and status != CriterionStatus.PASS:
        status, why = CriterionStatus.WAIVED, f"waived by policy: {waiver.reason}"
    return Criterion(
        name=m.name,
        comparator=spec.comparator,
        threshold=m.threshold,
        value=m.value,
        unit=spec.unit,
        status=status,
        why=why,
        evidence=m.evidence,
    )


def _ns(value: datetime) -> int:
    return int(value.astimezone(UTC).timestamp() * 1e9)


def critical_mask(risk: RiskEvents, policy: PromotionPolicy | None) -> np.ndarray[Any, Any]:
    """Which events are critical under the policy's classification (not their sender's)."""
    mask = np.zeros(len(risk), dtype=bool)
    for kind, severity in set(zip(risk.kind.tolist(), risk.severity.tolist(), strict=True)):
        if classify(kind, severity, policy) == Severity.CRITICAL:
            mask |= (risk.kind == kind) & (risk.severity == severity)
    return mask


def window_start(
    risk: RiskEvents | None, policy: PromotionPolicy, entered: datetime, now: datetime
) -> tuple[datetime, tuple[datetime, str] | None]:
    """The stage entry, or just after the last critical risk event since then (with its id)."""
    if risk is None or len(risk) == 0:
        return entered, None
    recent = risk.between(_ns(entered), _ns(now))
    critical = recent.where(critical_mask(recent, policy))
    if len(critical) == 0:
        return entered, None
    last = int(np.argmax(critical.ts))
    at = datetime.fromtimestamp(int(critical.ts[last]) / 1e9 + 1e-6, tz=UTC)
    return at, (at, f"{critical.event_id[last]} ({critical.kind[last]})")


def _clock_skew(
    bundle: EvidenceBundle, signals: SignalSummary | None, policy: PromotionPolicy, now: datetime
) -> Measured:
    """Rows of any kind stamped later than now plus the allowed skew: a data-integrity fault."""
    limit = _ns(now) + policy.data_integrity_thresholds.max_clock_skew_ms * 1_000_000
    parts = [bundle.fills, bundle.orders, bundle.risk]
    future = sum(int(np.count_nonzero(p.ts > limit)) for p in parts if p is not None)
    future += signals.rows_after(limit) if signals is not None else 0
    return Measured("clock_skew_violations", 0.0, float(future), "all evidence")


def _progress(
    w: EvidenceBundle,
    signals: SignalWindow | None,
    policy: PromotionPolicy,
    transition: Transition,
    start: datetime,
    end: datetime,
    restart: tuple[datetime, str] | None,
    criteria: list[Criterion],
) -> WindowProgress:
    need = policy.window_for(transition)
    signal_count = signals.totals["directional"] if signals is not None else 0
    turnover = next((c.value for c in criteria if c.name == "turnover"), None)
    limit = need.low_turnover_max
    low_turnover = limit is not None and turnover is not None and turnover <= limit
    return WindowProgress(
        start=start,
        end=end,
        restarted_at=restart[0] if restart else None,
        restarted_by=restart[1] if restart else None,
        sessions=sessions_covered(policy.calendar, start, end, need.session_coverage_min),
        sessions_required=need.min_sessions,
        evaluations=signals.totals["valid"] if signals is not None else 0,
        evaluations_required=need.min_evaluations,
        fills=int((~w.fills.fill_failed).sum()) if w.fills is not None else 0,
        fills_required=need.min_fills,
        signals=signal_count,
        signals_if_low_turnover=need.min_signals_if_low_turnover,
        low_turnover=low_turnover,
        orders=len(w.orders) if w.orders is not None else 0,
        orders_required=need.min_orders,
    )


def _series(w: EvidenceBundle, s: SignalWindow | None, ic: DailyIC | None) -> ReportSeries:
    """Small series for charts (at most SERIES_POINTS points each)."""
    equity: list[tuple[int, float]] = []
    drawdown: list[tuple[int, float]] = []
    source: ShadowFills | PaperOrders | None = None
    if w.fills is not None and len(w.fills):
        source = w.fills.where(~w.fills.fill_failed)
    if source is None and w.orders is not None and len(w.orders):
        source = w.orders.where(np.isfinite(w.orders.fill_price))
    if source is not None and len(source):
        days, daily = ret.daily_returns(source.day, source.equity, source.pnl)
        value = np.cumprod(1.0 + daily)
        fall = 1.0 - value / np.maximum.accumulate(np.maximum(value, 1.0))
        equity, drawdown = _points(days, value), _points(days, -fall)
    hit_rate: list[tuple[int, float]] = []
    if s is not None and len(s):
        hit_rate = _points(*s.daily_hit_rate())
    daily_ic = _points(ic.days, ic.ic) if ic is not None and len(ic.ic) else []
    return ReportSeries(equity=equity, drawdown=drawdown, daily_ic=daily_ic, hit_rate=hit_rate)


def _points(days: np.ndarray[Any, Any], values: np.ndarray[Any, Any]) -> list[tuple[int, float]]:
    step = max(1, len(days) // SERIES_POINTS)
    return [(int(d), round(float(v), 6)) for d, v in zip(days[::step], values[::step], strict=True)]
