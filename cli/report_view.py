"""One rendering of an eligibility report for every command that shows one."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from governance.report import CriterionStatus, EligibilityReport

MARK = {
    CriterionStatus.PASS: "pass",
    CriterionStatus.FAIL: "FAIL",
    CriterionStatus.NOT_MEASURABLE: "not measurable",
    CriterionStatus.AWAITING_EVIDENCE: "not measurable yet",
    CriterionStatus.WAIVED: "waived",
}


def render_report(console: Console, report: EligibilityReport) -> None:
    w = report.window
    console.print(
        f"[bold]{report.verdict}[/] for {report.transition}  (policy {report.policy_version})"
    )
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
    console.print(f"window {w.start:%Y-%m-%d} .. {w.end:%Y-%m-%d}: {', '.join(counters)}")
    table = Table("criterion", "threshold", "measured", "result")
    for c in report.criteria:
        value = "—" if c.value is None else f"{c.value:.4g}"
        result = MARK[c.status] + (f" ({c.why})" if c.why else "")
        table.add_row(c.name, f"{c.comparator} {c.threshold:g} {c.unit}", value, result)
    console.print(table)
    for reason in report.reasons:
        console.print(f"  {reason}")
    console.print(f"metrics_hash {report.metrics_hash}")
