"""Risk events and the demotion action each one calls for (spec sections 2 and 5).

`action_for` is a pure function of (event, policy, current posture); the demotion workflow only
carries out what it returns.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from governance.bounds import check_json
from governance.evidence_columns import RiskEvents
from governance.hashing import canonical_hash
from governance.policy import PromotionPolicy
from governance.records import EvidenceRef, Identifier, Severity, UtcDatetime
from governance.stages import Decision, LifecycleStage, rank, safer


class RiskEventKind(StrEnum):
    """Public contract: risk systems send exactly these names."""

    DAILY_LOSS_LIMIT_BREACHED = "daily_loss_limit_breached"
    DRAWDOWN_BREAKER = "drawdown_breaker"
    CONCENTRATION_VIOLATION = "concentration_violation"
    UNAUTHORIZED_EXECUTION_ATTEMPT = "unauthorized_execution_attempt"
    CIRCUIT_BREAKER_CRITICAL = "circuit_breaker_critical"
    CIRCUIT_BREAKER_WARNING = "circuit_breaker_warning"
    MARKETDATA_STALE = "marketdata_stale"
    QUOTE_FIELDS_MISSING = "quote_fields_missing"
    CLOCK_SKEW = "clock_skew"
    SCHEMA_DRIFT = "schema_drift"
    REPLAY_OUT_OF_ORDER = "replay_out_of_order"
    KILL_SWITCH_ENABLED = "kill_switch_enabled"
    AGENT_NOT_READY = "agent_not_ready"
    BROKER_INSTABILITY = "broker_instability"


K = RiskEventKind


class RiskClass(StrEnum):
    """What a kind of event is, and so what it calls for (spec sections 2 and 5)."""

    CRITICAL_BREAKER = "critical_breaker"  # demote to SHADOW and freeze until manual review
    RISK_BREACH = "risk_breach"  # demote to SHADOW, unless its sender calls it a warning
    DATA_INTEGRITY = "data_integrity"  # demote to OBSERVE, freeze, open an incident
    OPERATIONAL = "operational"  # force a non-executing posture: nothing above SHADOW
    WARNING = "warning"  # counted against the policy's warning budget


RISK_CLASS: dict[RiskEventKind, RiskClass] = {
    K.DAILY_LOSS_LIMIT_BREACHED: RiskClass.CRITICAL_BREAKER,
    K.DRAWDOWN_BREAKER: RiskClass.CRITICAL_BREAKER,
    K.CIRCUIT_BREAKER_CRITICAL: RiskClass.CRITICAL_BREAKER,
    K.UNAUTHORIZED_EXECUTION_ATTEMPT: RiskClass.CRITICAL_BREAKER,
    K.CONCENTRATION_VIOLATION: RiskClass.RISK_BREACH,
    K.CIRCUIT_BREAKER_WARNING: RiskClass.WARNING,
    K.MARKETDATA_STALE: RiskClass.DATA_INTEGRITY,
    K.QUOTE_FIELDS_MISSING: RiskClass.DATA_INTEGRITY,
    K.CLOCK_SKEW: RiskClass.DATA_INTEGRITY,
    K.SCHEMA_DRIFT: RiskClass.DATA_INTEGRITY,
    K.REPLAY_OUT_OF_ORDER: RiskClass.DATA_INTEGRITY,
    K.KILL_SWITCH_ENABLED: RiskClass.OPERATIONAL,
    K.AGENT_NOT_READY: RiskClass.OPERATIONAL,
    K.BROKER_INSTABILITY: RiskClass.OPERATIONAL,
}
# Kinds that are critical whatever severity their sender attached.
HARD_TRIGGERS = {
    k
    for k, c in RISK_CLASS.items()
    if c in (RiskClass.CRITICAL_BREAKER, RiskClass.DATA_INTEGRITY, RiskClass.OPERATIONAL)
}


def classify(
    kind: str, sender_severity: Severity | str | None, policy: PromotionPolicy | None
) -> Severity:
    """The severity that counts for an event, in the eligibility window as in demotion.

    The policy's classification of the kind wins over what the sender says: hard triggers are
    critical, the warning breaker is a warning, a drawdown breaker follows the tenant's
    `drawdown_breaker_critical`. A kind we do not know (ingested evidence may name its own)
    keeps its sender's severity, and unknown severity is critical (fail closed).
    """
    sender = _severity_or_none(sender_severity)
    try:
        known = RiskEventKind(kind)
    except ValueError:
        return sender or Severity.CRITICAL
    if known == K.DRAWDOWN_BREAKER and policy is not None:
        return (
            Severity.CRITICAL
            if policy.risk_thresholds.drawdown_breaker_critical
            else (Severity.WARNING)
        )
    if known in HARD_TRIGGERS:
        return Severity.CRITICAL
    if RISK_CLASS[known] == RiskClass.WARNING:
        return Severity.WARNING
    return sender or Severity.CRITICAL


def _severity_or_none(value: Severity | str | None) -> Severity | None:
    if value is None or value == "":
        return None
    try:
        # Risk systems and ingested files spell severities in either case.
        return Severity(value.lower() if isinstance(value, str) else value)
    except ValueError:
        return None


def _bounded(details: dict[str, Any]) -> dict[str, Any]:
    problem = check_json(details, "details")
    if problem is not None:
        raise PydanticCustomError("details_out_of_bounds", "{reason}", {"reason": problem.reason})
    return details


# What a sender may attach to an event: small, shallow, canonical JSON (governance.bounds).
Details = Annotated[dict[str, Any], AfterValidator(_bounded)]


class RiskEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: Identifier
    kind: RiskEventKind
    severity: Severity | None = None
    ts: UtcDatetime
    source: str = "risk-system"
    details: Details = Field(default_factory=dict)

    def severity_under(self, policy: PromotionPolicy | None) -> Severity:
        return classify(self.kind, self.severity, policy)


class StoredRiskEvent(BaseModel):
    """A risk event as the risk history keeps it: one per (strategy, event_id), never changed.

    Events from the API and from `risk_event` signals land here alike, so the eligibility window
    reads them with ingested `risk_events` evidence. `severity` is the sender's; the policy's
    classification (`classify`) is applied wherever it counts.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant_id: Identifier
    uid: Identifier
    strategy_id: Identifier
    event_id: Identifier
    kind: RiskEventKind
    severity: Severity | None = None
    ts: UtcDatetime
    received_at: UtcDatetime
    source: str = "risk-system"
    details: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def of(
        cls, tenant_id: str, uid: str, strategy_id: str, event: RiskEvent, received_at: datetime
    ) -> StoredRiskEvent:
        return cls(
            tenant_id=tenant_id,
            uid=uid,
            strategy_id=strategy_id,
            received_at=received_at,
            **event.model_dump(),
        )

    def event(self) -> RiskEvent:
        return RiskEvent.model_validate(
            self.model_dump(exclude={"tenant_id", "uid", "strategy_id", "received_at"})
        )

    def same_event(self, other: StoredRiskEvent) -> bool:
        """A redelivery of this event, not another one under its id. Times may differ (the API
        stamps an event when it arrives, so a retried POST carries a later `ts`): the first
        delivery's times are kept."""
        times = {"ts", "received_at"}
        return self.model_dump(exclude=times) == other.model_dump(exclude=times)


class Posture(BaseModel):
    """What the demotion workflow knows about the strategy when an event arrives."""

    model_config = ConfigDict(frozen=True)

    lifecycle_stage: LifecycleStage
    freeze: bool = False
    warnings: list[datetime] = Field(default_factory=list)


class DemotionAction(BaseModel):
    model_config = ConfigDict(frozen=True)

    decision: Decision | None  # None: no stage change or freeze to commit
    target_stage: LifecycleStage
    # The most permissive stage the event allows from now on; a promotion in flight to a
    # stage above it is preempted, whether or not the event lowered the stage.
    ceiling: LifecycleStage = LifecycleStage.LIVE
    freeze: bool
    # Whether this event itself calls for a freeze (an unfreeze in flight must not undo it).
    freezes: bool = False
    freeze_reason: str | None
    reason_code: str
    incident: bool = False
    audit_event_type: str = "risk.circuit_breaker_triggered"
    severity: Severity = Severity.CRITICAL
    warnings: list[datetime] = Field(default_factory=list)
    explanation: str


def action_for(
    event: RiskEvent, policy: PromotionPolicy | None, posture: Posture
) -> DemotionAction:
    """The safe action for one risk event. It never raises the stage."""
    kind, risk_class = event.kind, RISK_CLASS[event.kind]
    if risk_class == RiskClass.DATA_INTEGRITY:
        return _act(
            posture,
            LifecycleStage.OBSERVE,
            freeze=True,
            freeze_reason="data_integrity",
            reason_code=kind.value,
            incident=True,
            audit_event_type="ops.data_integrity_event",
            why="data integrity issue: demote to OBSERVE and freeze (spec 2C)",
        )
    if policy is None:
        # Unknown config fails closed (spec 5): the safest stage, frozen for review.
        return _act(
            posture,
            LifecycleStage.OBSERVE,
            freeze=True,
            freeze_reason="missing_policy",
            reason_code=kind.value,
            why="no tenant policy: unknown config fails closed to OBSERVE",
        )
    if risk_class == RiskClass.OPERATIONAL:
        return _act(
            posture,
            LifecycleStage.SHADOW,
            freeze=False,
            freeze_reason=None,
            reason_code=kind.value,
            why="operational trigger: force a non-executing posture (spec 2D)",
        )
    if event.severity_under(policy) == Severity.CRITICAL:
        breaker = risk_class == RiskClass.CRITICAL_BREAKER
        return _act(
            posture,
            LifecycleStage.SHADOW,
            freeze=breaker,
            freeze_reason=kind.value if breaker else None,
            reason_code=kind.value,
            why="critical risk event: demote to SHADOW"
            + (" and freeze promotions until manual review" if breaker else ""),
        )
    return _count_warning(event, policy, posture, list(posture.warnings))


def forbids(action: DemotionAction, request_to_stage: LifecycleStage) -> bool:
    """Whether a request in flight to `request_to_stage` must be preempted by this event.

    A promotion above the event's ceiling is forbidden even when the event did not lower the
    stage (a kill-switch at SHADOW forbids SHADOW -> PAPER); an event that calls for a freeze
    forbids every request, an unfreeze included, so that nothing in flight undoes it.
    """
    return rank(request_to_stage) > rank(action.ceiling) or action.freezes


def preemption_reason(event: RiskEvent, action: DemotionAction) -> str:
    """Why a promotion in flight is preempted, in words an approver reads on the request."""
    reason = f"risk event {event.event_id} ({event.kind.value}) "
    if action.target_stage != action.ceiling or action.decision == Decision.DEMOTE:
        reason += f"demotes to {action.target_stage}"
    else:
        reason += f"allows nothing above {action.ceiling}"
    return reason + (" and freezes promotions" if action.freezes else "")


def _count_warning(
    event: RiskEvent, policy: PromotionPolicy, posture: Posture, warnings: list[datetime]
) -> DemotionAction:
    budget = policy.risk_thresholds.warning_budget
    horizon = event.ts - timedelta(seconds=budget.window_seconds)
    recent = sorted([w for w in warnings if w > horizon] + [event.ts])
    if len(recent) > budget.max_warnings:
        action = _act(
            posture,
            safer(posture.lifecycle_stage, LifecycleStage.SHADOW),
            freeze=False,
            freeze_reason=None,
            reason_code="warning_budget_exceeded",
            why=f"{len(recent)} warnings within {budget.window_seconds}s exceed the budget of "
            f"{budget.max_warnings}",
        )
        # A demotion spends the budget: the count starts again after it.
        return action.model_copy(update={"warnings": []})
    return DemotionAction(
        decision=None,
        target_stage=posture.lifecycle_stage,
        ceiling=LifecycleStage.LIVE,
        freeze=posture.freeze,
        freeze_reason=None,
        reason_code=event.kind.value,
        severity=Severity.WARNING,
        warnings=recent,
        explanation=f"warning {len(recent)} of {budget.max_warnings} allowed within the window",
    )


def _act(
    posture: Posture,
    target: LifecycleStage,
    *,
    freeze: bool,
    freeze_reason: str | None,
    reason_code: str,
    why: str,
    incident: bool = False,
    audit_event_type: str = "risk.circuit_breaker_triggered",
) -> DemotionAction:
    ceiling = target
    target = safer(target, posture.lifecycle_stage)
    if rank(target) < rank(posture.lifecycle_stage):
        decision: Decision | None = Decision.DEMOTE
    elif freeze and not posture.freeze:
        decision = Decision.FREEZE
    else:
        decision = None
    return DemotionAction(
        decision=decision,
        target_stage=target,
        ceiling=ceiling,
        freeze=freeze or posture.freeze,
        freezes=freeze,
        freeze_reason=freeze_reason if freeze else None,
        reason_code=reason_code,
        incident=incident,
        audit_event_type=audit_event_type,
        warnings=list(posture.warnings),
        explanation=why,
    )


def risk_history(events: list[StoredRiskEvent]) -> tuple[RiskEvents, EvidenceRef]:
    """The stored risk history as evidence columns, and the reference a report cites for it."""
    ordered = sorted(events, key=lambda e: (e.ts, e.event_id))
    columns = RiskEvents(
        ts=np.array([_ns(e.ts) for e in ordered], dtype=np.int64),
        kind=np.array([e.kind.value for e in ordered], dtype=str),
        severity=np.array([str(e.severity or "") for e in ordered], dtype=str),
        event_id=np.array([e.event_id for e in ordered], dtype=str),
    )
    digest = canonical_hash([e.model_dump(mode="json") for e in ordered])
    return columns, EvidenceRef(kind="risk_history", id=f"{len(ordered)}-events", sha256=digest)


def _ns(value: datetime) -> int:
    return (value - _EPOCH) // timedelta(microseconds=1) * 1000


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
