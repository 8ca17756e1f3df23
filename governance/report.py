"""The eligibility report as one typed model: what records snapshot, approvers read and the
workflow keeps.

A report names every criterion of its transition with its comparator, threshold, measured value
and unit, and a status: PASS, FAIL, NOT_MEASURABLE (with why: not measurable is never a pass) or
WAIVED (the policy waives it, with the waiver's reason). Its `metrics_hash` is the SHA-256 of the
canonical JSON of everything but the chart series and the hash itself.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from governance.hashing import canonical_hash
from governance.records import EvidenceRef, UtcDatetime
from governance.records import WaiverRef as Waiver
from governance.stages import LifecycleStage, Transition


class Verdict(StrEnum):
    ELIGIBLE = "ELIGIBLE"
    WAITING = "WAITING"  # the stability window is not complete, or evidence has yet to arrive
    INELIGIBLE = "INELIGIBLE"  # a criterion fails, or cannot be measured on the evidence


class Comparator(StrEnum):
    AT_LEAST = ">="
    AT_MOST = "<="


class CriterionStatus(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    # The window holds no evidence of the criterion's kind yet: the request waits for it.
    AWAITING_EVIDENCE = "awaiting_evidence"
    # There is evidence, but the criterion cannot be computed from it (a column the platform
    # does not report, a constant series): never a pass, so the strategy is not eligible.
    NOT_MEASURABLE = "not_measurable"
    WAIVED = "waived"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Criterion(_Model):
    name: str
    comparator: Comparator
    threshold: float
    value: float | None
    unit: str
    status: CriterionStatus
    why: str | None = None  # what is missing when not measurable; the waiver's reason
    evidence: str

    @property
    def passed(self) -> bool:
        """Whether it lets the verdict be ELIGIBLE (a waiver lets it, nothing else does)."""
        return self.status in (CriterionStatus.PASS, CriterionStatus.WAIVED)

    @property
    def margin(self) -> float | None:
        """How far the value is on the passing side of the threshold (negative: failing)."""
        if self.value is None:
            return None
        if self.comparator == Comparator.AT_LEAST:
            return self.value - self.threshold
        return self.threshold - self.value

    @property
    def awaiting(self) -> bool:
        return self.status == CriterionStatus.AWAITING_EVIDENCE

    def describe(self) -> str:
        if self.awaiting:
            return f"{self.name}: not measurable yet ({self.why or 'no evidence'})"
        if self.value is None:
            return f"{self.name}: not measurable ({self.why or 'no evidence'})"
        verb = {CriterionStatus.PASS: "passes", CriterionStatus.WAIVED: "waived"}.get(
            self.status, "fails"
        )
        return f"{self.name}: {self.value:.6g} {verb} {self.comparator} {self.threshold:g}"


class WindowProgress(_Model):
    """The stability window: where it starts, and every counter the transition requires."""

    start: UtcDatetime
    end: UtcDatetime
    restarted_at: UtcDatetime | None = None
    restarted_by: str | None = None  # the critical risk event (id and kind) that restarted it
    sessions: int
    sessions_required: int
    evaluations: int = 0
    evaluations_required: int = 0
    fills: int = 0
    fills_required: int = 0
    # SHADOW's alternative to fills for a low-turnover strategy (policy-defined).
    signals: int = 0
    signals_if_low_turnover: int | None = None
    low_turnover: bool = False
    orders: int = 0
    orders_required: int = 0

    def shortfalls(self) -> list[str]:
        """Each counter short of its minimum, as 'name have/need'."""
        short = []
        if self.sessions < self.sessions_required:
            short.append(f"sessions {self.sessions}/{self.sessions_required}")
        if self.evaluations < self.evaluations_required:
            short.append(f"evaluations {self.evaluations}/{self.evaluations_required}")
        if self.fills < self.fills_required:
            if self.low_turnover and self.signals_if_low_turnover is not None:
                if self.signals < self.signals_if_low_turnover:
                    short.append(
                        f"signals {self.signals}/{self.signals_if_low_turnover} (low turnover)"
                    )
            else:
                short.append(f"fills {self.fills}/{self.fills_required}")
        if self.orders < self.orders_required:
            short.append(f"orders {self.orders}/{self.orders_required}")
        return short


class ReportSeries(_Model):
    """Small series for charts: [UTC day number, value] pairs, at most a few hundred each."""

    equity: list[tuple[int, float]] = Field(default_factory=list)
    drawdown: list[tuple[int, float]] = Field(default_factory=list)
    daily_ic: list[tuple[int, float]] = Field(default_factory=list)
    hit_rate: list[tuple[int, float]] = Field(default_factory=list)


class EligibilityReport(_Model):
    verdict: Verdict
    target_stage: LifecycleStage
    transition: Transition
    policy_version: str
    window: WindowProgress
    criteria: list[Criterion]
    reasons: list[str] = Field(default_factory=list)
    waivers: list[Waiver] = Field(default_factory=list)
    evidence: list[EvidenceRef] = Field(default_factory=list)
    series: ReportSeries | None = None
    metrics_hash: str = ""

    def hashed(self) -> EligibilityReport:
        """This report with its `metrics_hash` set."""
        return self.model_copy(update={"metrics_hash": report_hash(self)})

    def summary(self) -> EligibilityReport:
        """The same facts without the chart series: what a workflow keeps and a record cites."""
        return self.model_copy(update={"series": None})

    def criterion(self, name: str) -> Criterion | None:
        return next((c for c in self.criteria if c.name == name), None)

    @property
    def window_start(self) -> datetime:
        return self.window.start

    @property
    def window_end(self) -> datetime:
        return self.window.end


def report_hash(report: EligibilityReport) -> str:
    payload: dict[str, Any] = report.model_dump(mode="json", exclude={"series", "metrics_hash"})
    return canonical_hash(payload)


def stored_report(data: dict[str, Any]) -> EligibilityReport:
    """A report as a store holds it; reports of earlier versions (criteria with `comparison`
    and `passed`) are read into today's model with their original hash kept."""
    if any("comparison" in c for c in data.get("criteria", [])):
        data = _legacy(data)
    return EligibilityReport.model_validate(data)


def _legacy(data: dict[str, Any]) -> dict[str, Any]:
    window = dict(data.get("window") or {})
    criteria = []
    for c in data.get("criteria", []):
        value = c.get("value")
        status = "pass" if c.get("passed") else ("not_measurable" if value is None else "fail")
        criteria.append(
            {
                "name": c["name"],
                "comparator": c["comparison"],
                "threshold": c["threshold"],
                "value": value,
                "unit": "",
                "status": status,
                "evidence": c.get("evidence", ""),
            }
        )
    keys = WindowProgress.model_fields
    return {
        "verdict": data["verdict"],
        "target_stage": data["target_stage"],
        "transition": data["transition"],
        "policy_version": data["policy_version"],
        "window": {k: v for k, v in window.items() if k in keys},
        "criteria": criteria,
        "reasons": data.get("reasons", []),
        "evidence": data.get("evidence", []),
        "metrics_hash": data["metrics_hash"],
    }
