"""Risk events and the demotion action each one calls for (spec sections 2 and 5).

`action_for` is a pure function of (event, policy, current posture); the demotion workflow only
carries out what it returns.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from governance.policy import PromotionPolicy
from governance.records import Identifier, Severity, UtcDatetime
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
# Critical breakers demote to SHADOW and freeze promotions until manual review (spec 2B).
CRITICAL_BREAKERS = {
    K.DAILY_LOSS_LIMIT_BREACHED,
    K.DRAWDOWN_BREAKER,
    K.CIRCUIT_BREAKER_CRITICAL,
    K.UNAUTHORIZED_EXECUTION_ATTEMPT,
}
# Risk breaches that demote to SHADOW without a freeze unless sent as warnings.
RISK_BREACHES = {K.CONCENTRATION_VIOLATION}
DATA_INTEGRITY = {
    K.MARKETDATA_STALE,
    K.QUOTE_FIELDS_MISSING,
    K.CLOCK_SKEW,
    K.SCHEMA_DRIFT,
    K.REPLAY_OUT_OF_ORDER,
}
# Operational triggers force a non-executing posture: nothing above SHADOW.
OPERATIONAL = {K.KILL_SWITCH_ENABLED, K.AGENT_NOT_READY, K.BROKER_INSTABILITY}

DEFAULT_SEVERITY = {k: Severity.CRITICAL for k in RiskEventKind} | {
    K.CIRCUIT_BREAKER_WARNING: Severity.WARNING
}


class RiskEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: Identifier
    kind: RiskEventKind
    severity: Severity | None = None
    ts: UtcDatetime
    source: str = "risk-system"
    details: dict[str, Any] = Field(default_factory=dict)

    @property
    def effective_severity(self) -> Severity:
        return self.severity or DEFAULT_SEVERITY[self.kind]


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
    freeze: bool
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
    stage, kind = posture.lifecycle_stage, event.kind
    warnings = list(posture.warnings)
    if kind in DATA_INTEGRITY:
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
    if kind in OPERATIONAL:
        return _act(
            posture,
            safer(stage, LifecycleStage.SHADOW),
            freeze=False,
            freeze_reason=None,
            reason_code=kind.value,
            why="operational trigger: force a non-executing posture (spec 2D)",
        )
    severity = event.effective_severity
    critical_breaker = kind in CRITICAL_BREAKERS
    if critical_breaker:
        # A hard trigger demotes whatever severity its sender attached (spec 2A/2B).
        severity = Severity.CRITICAL
    if kind == K.DRAWDOWN_BREAKER and not policy.risk_thresholds.drawdown_breaker_critical:
        severity, critical_breaker = Severity.WARNING, False
    if severity == Severity.CRITICAL and kind != K.CIRCUIT_BREAKER_WARNING:
        return _act(
            posture,
            safer(stage, LifecycleStage.SHADOW),
            freeze=critical_breaker,
            freeze_reason=kind.value if critical_breaker else None,
            reason_code=kind.value,
            why="critical risk event: demote to SHADOW"
            + (" and freeze promotions until manual review" if critical_breaker else ""),
        )
    return _count_warning(event, policy, posture, warnings)


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
        freeze=freeze or posture.freeze,
        freeze_reason=freeze_reason if freeze else None,
        reason_code=reason_code,
        incident=incident,
        audit_event_type=audit_event_type,
        warnings=list(posture.warnings),
        explanation=why,
    )
