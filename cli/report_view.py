"""One rendering of an eligibility report, and of a request's status, for every command that
shows one (`evidence report`, `promote status`, `approve`): each criterion with its comparator,
threshold and measured value rounded for reading in its unit, the margin, and the result."""

from __future__ import annotations

from cli.output import out, table
from governance.report import Criterion, CriterionStatus, EligibilityReport
from workflows.promotion_state import PromotionStatus

MARK = {
    CriterionStatus.PASS: "pass",
    CriterionStatus.FAIL: "FAIL",
    CriterionStatus.NOT_MEASURABLE: "not measurable",
    CriterionStatus.AWAITING_EVIDENCE: "not measurable yet",
    CriterionStatus.WAIVED: "waived",
}
COUNTS = {"count", "days", "fills", "buckets", "orders", "sessions"}


def reading(value: float, unit: str, signed: bool = False) -> str:
    """A value as a person reads it: fractions in percent, counts whole, the rest rounded."""
    sign = "+" if signed and value > 0 else ""
    if unit == "fraction":
        return f"{sign}{_g(value * 100)}{' pp' if signed else '%'}"
    if unit in COUNTS:
        return f"{sign}{_g(value)} {unit}"
    if unit == "x equity":
        return f"{sign}{_g(value)}x equity"
    if unit in ("ms", "bps"):
        return f"{sign}{value:.1f} {unit}".replace(".0 ", " ")
    return f"{sign}{value:.3f}".rstrip("0").rstrip(".") + ("" if unit in ("rho", "ratio") else unit)


def _g(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def criterion_row(c: Criterion) -> list[str]:
    measured = "—" if c.value is None else reading(c.value, c.unit)
    margin = "—" if c.margin is None else reading(c.margin, c.unit, signed=True)
    result = MARK[c.status] + (f" ({c.why})" if c.why else "")
    rule = f"{c.comparator.value} {reading(c.threshold, c.unit)}"
    return [c.name, rule, measured, margin, result]


def render_report(report: EligibilityReport) -> None:
    w = report.window
    out(f"{report.verdict} for {report.transition}  (policy {report.policy_version})")
    counters = [f"sessions {w.sessions}/{w.sessions_required}"]
    if w.evaluations_required:
        counters.append(f"evaluations {w.evaluations}/{w.evaluations_required}")
    if w.fills_required:
        counters.append(f"fills {w.fills}/{w.fills_required}")
        if w.signals_if_low_turnover is not None:
            note = "low turnover" if w.low_turnover else "not low turnover"
            counters.append(f"or signals {w.signals}/{w.signals_if_low_turnover} ({note})")
    if w.orders_required:
        counters.append(f"orders {w.orders}/{w.orders_required}")
    out(f"window {w.start:%Y-%m-%d} .. {w.end:%Y-%m-%d}: {', '.join(counters)}")
    table(
        ["criterion", "rule", "measured", "margin", "result"],
        [criterion_row(c) for c in report.criteria],
    )
    for reason in report.reasons:
        out(f"  {reason}")
    out(f"metrics_hash {report.metrics_hash}")


def render_status(s: PromotionStatus) -> None:
    """A request as an approver reads it: an ended one says how it ended, and lists no
    missing approvals."""
    transition = f"{s.from_stage or '?'} -> {s.to_stage}"
    what = "unfreeze" if s.decision == "unfreeze" else str(s.decision)
    out(
        f"{s.uid}/{s.strategy_id}: {what} {transition}, request {s.request_id}, "
        f"requested by {s.requested_by}" + (f" ({s.reason})" if s.reason else "")
    )
    if s.phase.terminal:
        record = f" as record {s.record_id}" if s.record_id else ""
        out(f"ended {s.phase}{record}: {s.status_reason or 'no reason given'}")
    else:
        out(f"phase {s.phase}" + (f": {s.status_reason}" if s.status_reason else ""))
    if s.report:
        render_report(s.report)
    for a in s.approvals:
        out(f"  approved: {a.role} by {a.approved_by} at {a.approved_at:%Y-%m-%d %H:%M}Z")
    if s.phase.terminal:
        return
    if s.missing_roles:
        out(f"  missing: {', '.join(s.missing_roles)}")
    for who, why in s.stale_approvals.items():
        out(f"  stale: {who}: {why}")
    if s.deadline:
        out(f"  deadline {s.deadline:%Y-%m-%d %H:%M}Z")
