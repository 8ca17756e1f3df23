"""What changed between two eligibility reports: why the hash an approval was given on differs
from the report a decision was finally taken on.

A report's hash covers its window, so a re-evaluation a moment later has a new hash even when
no criterion moved: the window's end moved. This names that, and every criterion whose value or
status changed, so an approver can see whether what they signed still holds.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from governance.report import CriterionStatus, EligibilityReport, Verdict


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class CriterionChange(_Frozen):
    name: str
    before: float | None
    after: float | None
    status_before: CriterionStatus | None  # None: the criterion was not in that report
    status_after: CriterionStatus | None


class ReportDiff(_Frozen):
    before_hash: str
    after_hash: str
    window_start: tuple[datetime, datetime] | None = None  # (before, after) when it moved
    window_end: tuple[datetime, datetime] | None = None
    verdict: tuple[Verdict, Verdict] | None = None
    policy_version: tuple[str, str] | None = None
    counters: list[str] = []  # "fills 40 -> 52"
    criteria: list[CriterionChange] = []

    @property
    def same(self) -> bool:
        return self.before_hash == self.after_hash

    def explain(self) -> str:
        """One line: why the hashes differ."""
        if self.same:
            return "same report"
        parts = []
        if self.window_end:
            a, b = self.window_end
            parts.append(f"window end moved {a:%Y-%m-%d %H:%M} -> {b:%Y-%m-%d %H:%M} UTC")
        if self.window_start:
            a, b = self.window_start
            parts.append(f"window start moved {a:%Y-%m-%d %H:%M} -> {b:%Y-%m-%d %H:%M} UTC")
        if self.verdict:
            parts.append(f"verdict {self.verdict[0]} -> {self.verdict[1]}")
        if self.policy_version:
            parts.append(f"policy {self.policy_version[0]} -> {self.policy_version[1]}")
        parts.extend(self.counters)
        if self.criteria:
            parts.append("criterion values changed: " + ", ".join(c.name for c in self.criteria))
        else:
            parts.append("no criterion value changed")
        return "; ".join(parts)


def report_diff(before: EligibilityReport, after: EligibilityReport) -> ReportDiff:
    wb, wa = before.window, after.window
    counters = []
    for name in ("sessions", "evaluations", "fills", "signals", "orders"):
        x, y = getattr(wb, name), getattr(wa, name)
        if x != y:
            counters.append(f"{name} {x} -> {y}")
    old = {c.name: c for c in before.criteria}
    new = {c.name: c for c in after.criteria}
    changed = []
    for name in list(old) + [n for n in new if n not in old]:
        b, a = old.get(name), new.get(name)
        if b is not None and a is not None and (b.value, b.status) == (a.value, a.status):
            continue
        changed.append(
            CriterionChange(
                name=name,
                before=b.value if b else None,
                after=a.value if a else None,
                status_before=b.status if b else None,
                status_after=a.status if a else None,
            )
        )
    return ReportDiff(
        before_hash=before.metrics_hash,
        after_hash=after.metrics_hash,
        window_start=(wb.start, wa.start) if wb.start != wa.start else None,
        window_end=(wb.end, wa.end) if wb.end != wa.end else None,
        verdict=(before.verdict, after.verdict) if before.verdict != after.verdict else None,
        policy_version=(
            (before.policy_version, after.policy_version)
            if before.policy_version != after.policy_version
            else None
        ),
        counters=counters,
        criteria=changed,
    )
