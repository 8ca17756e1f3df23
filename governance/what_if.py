"""Policy what-if: a candidate policy's reports against the current policy's (for each strategy's
next transition) and against the recorded ones (for each past decision), criterion by criterion.

Read-only by construction: it compares reports, it never decides. A strategy *flips* when its
verdict under the candidate differs from its verdict under the current policy; a past promotion
*would not have passed* when the candidate's report on the evidence and window it cites is not
ELIGIBLE.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, computed_field

from governance.records import PromotionRecord, StrategyDoc
from governance.report import Criterion, CriterionStatus, EligibilityReport, Verdict
from governance.stages import LifecycleStage


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CriterionChange(_Model):
    """One criterion whose threshold or status differs between the two reports."""

    name: str
    value: float | None  # under the candidate (equal to the other's unless it measures it anew)
    before_threshold: float | None
    candidate_threshold: float | None
    before_status: CriterionStatus | None
    candidate_status: CriterionStatus | None


class StrategyWhatIf(_Model):
    uid: str
    strategy_id: str
    stage: LifecycleStage
    target_stage: LifecycleStage | None
    current_verdict: Verdict | None = None
    candidate_verdict: Verdict | None = None
    changes: list[CriterionChange] = Field(default_factory=list)
    candidate_reasons: list[str] = Field(default_factory=list)
    note: str | None = None  # why it was not evaluated, or what could not be

    @computed_field  # type: ignore[prop-decorator]
    @property
    def flips(self) -> bool:
        return self.current_verdict != self.candidate_verdict and self.note is None


class RecordWhatIf(_Model):
    record_id: str
    uid: str
    strategy_id: str
    from_stage: LifecycleStage
    to_stage: LifecycleStage
    effective_at: datetime
    recorded_verdict: Verdict | None
    candidate_verdict: Verdict | None
    # Each criterion that does not pass (or waived) under the candidate, with its recorded side.
    failing: list[CriterionChange] = Field(default_factory=list)
    candidate_reasons: list[str] = Field(default_factory=list)
    note: str | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def would_pass(self) -> bool:
        return self.candidate_verdict == Verdict.ELIGIBLE


class WhatIf(_Model):
    tenant_id: str
    current_version: str | None
    candidate_version: str
    strategies: list[StrategyWhatIf]
    records: list[RecordWhatIf]

    @property
    def flipped(self) -> list[StrategyWhatIf]:
        return [s for s in self.strategies if s.flips]

    @property
    def would_fail(self) -> list[RecordWhatIf]:
        return [r for r in self.records if not r.would_pass]


def changes(
    before: EligibilityReport | None, candidate: EligibilityReport
) -> list[CriterionChange]:
    """Criteria whose threshold or status differ (every candidate criterion when no before)."""
    theirs = {c.name: c for c in before.criteria} if before is not None else {}
    out = []
    for c in candidate.criteria:
        then = theirs.get(c.name)
        if then is not None and then.threshold == c.threshold and then.status == c.status:
            continue
        out.append(_change(c.name, c.value, then, c))
    return out


def strategy_what_if(
    doc: StrategyDoc,
    target: LifecycleStage | None,
    current: EligibilityReport | None,
    candidate: EligibilityReport | None,
    note: str | None = None,
) -> StrategyWhatIf:
    return StrategyWhatIf(
        uid=doc.uid,
        strategy_id=doc.strategy_id,
        stage=doc.lifecycle_stage,
        target_stage=target,
        current_verdict=current.verdict if current else None,
        candidate_verdict=candidate.verdict if candidate else None,
        changes=changes(current, candidate) if candidate else [],
        candidate_reasons=candidate.reasons if candidate else [],
        note=note,
    )


def record_what_if(
    record: PromotionRecord,
    recorded: EligibilityReport | None,
    candidate: EligibilityReport | None,
    note: str | None = None,
) -> RecordWhatIf:
    theirs = {c.name: c for c in recorded.criteria} if recorded is not None else {}
    failing = [
        _change(c.name, c.value, theirs.get(c.name), c)
        for c in (candidate.criteria if candidate else [])
        if not c.passed
    ]
    return RecordWhatIf(
        record_id=record.record_id,
        uid=record.uid,
        strategy_id=record.strategy_id,
        from_stage=record.from_stage,
        to_stage=record.to_stage,
        effective_at=record.effective_at,
        recorded_verdict=recorded.verdict if recorded else None,
        candidate_verdict=candidate.verdict if candidate else None,
        failing=failing,
        candidate_reasons=candidate.reasons if candidate else [],
        note=note,
    )


def _change(
    name: str, value: float | None, before: Criterion | None, after: Criterion
) -> CriterionChange:
    return CriterionChange(
        name=name,
        value=value,
        before_threshold=before.threshold if before else None,
        candidate_threshold=after.threshold,
        before_status=before.status if before else None,
        candidate_status=after.status,
    )
