"""The evidence pack whole: its sections and the draft of the annual self-assessment (RTS 6
Art. 9) with the figures the ledger holds. A draft: the compliance function completes and signs
it; every figure here is recomputable from the pack's JSON files."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from statistics import median

from pydantic import BaseModel, ConfigDict

from governance.audit_pack import ARTICLES, PackSections, Period, assemble_sections
from governance.policy import PromotionPolicy
from governance.records import AuditEvent, PromotionRecord, StrategyDoc
from governance.report import EligibilityReport
from governance.stages import Decision, LifecycleStage


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Figures(_Model):
    promotions_by_stage: dict[str, int]  # by the stage promoted into
    demotions_by_stage: dict[str, int]  # by the stage demoted out of
    deployments: int  # promotions into PAPER or LIVE
    deployments_live_without_designated_person: int
    median_approve_seconds: float | None
    median_approve_seconds_by_stage: dict[str, float]
    halts: int
    drills: int
    halts_not_resumed: int
    median_gate_closed_ms: float | None
    max_gate_closed_ms: float | None
    median_last_record_ms: float | None
    max_last_record_ms: float | None
    incidents: int
    incidents_by_severity: dict[str, int]
    breaker_demotions: int
    policy_changes: int
    strategies_paper_at_end: int
    strategies_live_at_end: int
    strategies_without_envelope_at_end: int


class AssessmentItem(_Model):
    topic: str
    articles: list[str]
    finding: str  # what the ledger shows, in figures
    to_complete: str  # what the compliance function adds before signing


class AuditPack(_Model):
    tenant_id: str
    period: Period
    generated_at: datetime
    generated_by: str
    empty: bool  # nothing happened in the period: the pack says so
    articles: dict[str, list[str]]
    sections: PackSections
    figures: Figures
    self_assessment: list[AssessmentItem]


def _median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return float(median(present)) if present else None


def _max(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def figures_of(s: PackSections, records_in_period: list[PromotionRecord]) -> Figures:
    promoted = Counter(
        r.to_stage.value for r in records_in_period if r.decision == Decision.PROMOTE
    )
    demoted = Counter(
        r.from_stage.value for r in records_in_period if r.decision == Decision.DEMOTE
    )
    by_stage: dict[str, list[float]] = {}
    for d in s.deployments:
        if d.approve_seconds is not None:
            by_stage.setdefault(d.to_stage.value, []).append(d.approve_seconds)
    real = [h for h in s.halts if not h.drill]
    return Figures(
        promotions_by_stage=dict(sorted(promoted.items())),
        demotions_by_stage=dict(sorted(demoted.items())),
        deployments=len(s.deployments),
        deployments_live_without_designated_person=sum(
            1
            for d in s.deployments
            if d.to_stage == LifecycleStage.LIVE and not d.designated_person
        ),
        median_approve_seconds=_median(d.approve_seconds for d in s.deployments),
        median_approve_seconds_by_stage={k: float(median(v)) for k, v in sorted(by_stage.items())},
        halts=len(real),
        drills=len(s.halts) - len(real),
        halts_not_resumed=sum(1 for h in s.halts if h.resumed_at is None),
        median_gate_closed_ms=_median(h.gate_closed_ms for h in s.halts),
        max_gate_closed_ms=_max(h.gate_closed_ms for h in s.halts),
        median_last_record_ms=_median(h.last_record_ms for h in s.halts),
        max_last_record_ms=_max(h.last_record_ms for h in s.halts),
        incidents=len(s.incidents),
        incidents_by_severity=dict(sorted(Counter(i.severity for i in s.incidents).items())),
        breaker_demotions=sum(1 for d in s.demotions if d.cause == "circuit_breaker"),
        policy_changes=len(s.policy_changes),
        strategies_paper_at_end=sum(1 for x in s.limits if x.stage == LifecycleStage.PAPER),
        strategies_live_at_end=sum(1 for x in s.limits if x.stage == LifecycleStage.LIVE),
        strategies_without_envelope_at_end=sum(1 for x in s.limits if x.limit_envelope is None),
    )


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} ms"


def _hours(value: float | None) -> str:
    return "n/a" if value is None else f"{value / 3600:.1f} h"


def draft(f: Figures) -> list[AssessmentItem]:
    """The self-assessment's topics with what the ledger says about each."""
    promoted = ", ".join(f"{k} {v}" for k, v in f.promotions_by_stage.items()) or "none"
    demoted = ", ".join(f"out of {k} {v}" for k, v in f.demotions_by_stage.items()) or "none"
    return [
        AssessmentItem(
            topic="Testing and deployment",
            articles=ARTICLES["deployments"],
            finding=(
                f"Promotions by target stage: {promoted}. {f.deployments} deployment(s) to PAPER "
                f"or LIVE, each with its eligibility tests and approvals on record; median time "
                f"from request to last approval {_hours(f.median_approve_seconds)}. LIVE "
                f"deployments without a designated person: "
                f"{f.deployments_live_without_designated_person}."
            ),
            to_complete="Assess whether the criteria and windows tested what the algorithms do.",
        ),
        AssessmentItem(
            topic="Limits",
            articles=ARTICLES["limits"],
            finding=(
                f"At the period's end {f.strategies_paper_at_end} strategy(ies) in PAPER and "
                f"{f.strategies_live_at_end} in LIVE; {f.strategies_without_envelope_at_end} "
                "without a limit envelope on record."
            ),
            to_complete="Confirm the runtime enforced the envelopes (pre-trade controls' logs).",
        ),
        AssessmentItem(
            topic="Kill functionality",
            articles=ARTICLES["halts"],
            finding=(
                f"{f.halts} halt(s) and {f.drills} drill(s); gate closed in median "
                f"{_ms(f.median_gate_closed_ms)} (max {_ms(f.max_gate_closed_ms)}), last "
                f"demotion recorded in median {_ms(f.median_last_record_ms)} (max "
                f"{_ms(f.max_last_record_ms)}); {f.halts_not_resumed} not resumed in the ledger."
            ),
            to_complete="State the drill schedule and whether the timings meet the firm's target.",
        ),
        AssessmentItem(
            topic="Monitoring, demotions and incidents",
            articles=ARTICLES["incidents"],
            finding=(
                f"Demotions by stage left: {demoted}; {f.breaker_demotions} by a platform "
                f"circuit breaker. {f.incidents} incident(s) or risk event(s): "
                + (", ".join(f"{k} {v}" for k, v in f.incidents_by_severity.items()) or "none")
                + "."
            ),
            to_complete="Review each critical incident's root cause and remediation.",
        ),
        AssessmentItem(
            topic="Governance of the policy",
            articles=ARTICLES["policy_changes"],
            finding=f"{f.policy_changes} policy version(s) published in the period.",
            to_complete="Confirm each change was approved as the firm's procedures require.",
        ),
    ]


def build_audit_pack(
    *,
    tenant_id: str,
    period: Period,
    generated_at: datetime,
    generated_by: str,
    records: list[PromotionRecord],
    events: list[AuditEvent],
    policies: list[PromotionPolicy],
    reports: dict[str, EligibilityReport],
    strategies: list[StrategyDoc],
) -> AuditPack:
    sections = assemble_sections(
        period,
        records=records,
        events=events,
        policies=policies,
        reports=reports,
        strategies=strategies,
    )
    in_period = [r for r in records if period.contains(r.effective_at)]
    figures = figures_of(sections, in_period)
    empty = not (
        in_period
        or sections.halts
        or sections.incidents
        or sections.policy_changes
        or sections.policy_events
    )
    return AuditPack(
        tenant_id=tenant_id,
        period=period,
        generated_at=generated_at,
        generated_by=generated_by,
        empty=empty,
        articles=ARTICLES,
        sections=sections,
        figures=figures,
        self_assessment=draft(figures),
    )
