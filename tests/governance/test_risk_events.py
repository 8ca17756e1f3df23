"""The risk-event mapping of spec sections 2 and 5: every kind, from every stage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import pytest

from governance.policy import PromotionPolicy, default_policy
from governance.records import Severity
from governance.risk_events import DemotionAction, Posture, RiskEvent, action_for
from governance.risk_events import RiskEventKind as K
from governance.stages import ORDER, Decision, rank, safer
from governance.stages import LifecycleStage as S

NOW = datetime(2026, 11, 25, 15, tzinfo=UTC)


class Expect(NamedTuple):
    """The spec's action for a kind: the stage it caps at, and what else it does."""

    cap: S
    freeze: bool
    freeze_reason: str | None
    incident: bool
    audit_event_type: str


RISK = "risk.circuit_breaker_triggered"
INTEGRITY = "ops.data_integrity_event"
SPEC: dict[K, Expect] = {
    # 2A risk breaches: SHADOW; 2B critical breakers also freeze promotions until review.
    K.DAILY_LOSS_LIMIT_BREACHED: Expect(S.SHADOW, True, "daily_loss_limit_breached", False, RISK),
    K.DRAWDOWN_BREAKER: Expect(S.SHADOW, True, "drawdown_breaker", False, RISK),
    K.UNAUTHORIZED_EXECUTION_ATTEMPT: Expect(
        S.SHADOW, True, "unauthorized_execution_attempt", False, RISK
    ),
    K.CIRCUIT_BREAKER_CRITICAL: Expect(S.SHADOW, True, "circuit_breaker_critical", False, RISK),
    K.CONCENTRATION_VIOLATION: Expect(S.SHADOW, False, None, False, RISK),
    # 2C data integrity: OBSERVE, frozen as data_integrity, with an incident.
    **{
        k: Expect(S.OBSERVE, True, "data_integrity", True, INTEGRITY)
        for k in (
            K.MARKETDATA_STALE,
            K.QUOTE_FIELDS_MISSING,
            K.CLOCK_SKEW,
            K.SCHEMA_DRIFT,
            K.REPLAY_OUT_OF_ORDER,
        )
    },
    # 2D operational: a non-executing posture (nothing above SHADOW), no freeze.
    K.KILL_SWITCH_ENABLED: Expect(S.SHADOW, False, None, False, RISK),
    K.AGENT_NOT_READY: Expect(S.SHADOW, False, None, False, RISK),
    K.BROKER_INSTABILITY: Expect(S.SHADOW, False, None, False, RISK),
}


def event(kind: K, severity: Severity | None = None, at: datetime = NOW) -> RiskEvent:
    return RiskEvent(event_id="e", kind=kind, severity=severity, ts=at)


def test_the_table_covers_every_kind_but_the_warning() -> None:
    assert set(SPEC) | {K.CIRCUIT_BREAKER_WARNING} == set(K)
    assert len(K) == 14


@pytest.mark.parametrize("stage", ORDER)
@pytest.mark.parametrize("kind", sorted(SPEC))
def test_each_kind_from_each_stage(kind: K, stage: S) -> None:
    want = SPEC[kind]
    action = action_for(event(kind), default_policy(), Posture(lifecycle_stage=stage))
    target = safer(want.cap, stage)
    assert action.target_stage == target
    assert (action.freeze, action.freeze_reason) == (want.freeze, want.freeze_reason)
    assert (action.incident, action.audit_event_type) == (want.incident, want.audit_event_type)
    assert action.reason_code == kind.value
    if rank(target) < rank(stage):
        assert action.decision == Decision.DEMOTE
    elif want.freeze:
        assert action.decision == Decision.FREEZE  # already safe enough: freeze in place
    else:
        assert action.decision is None  # nothing to commit


@pytest.mark.parametrize("kind", sorted(SPEC))
def test_an_existing_freeze_is_kept_and_not_frozen_again(kind: K) -> None:
    posture = Posture(lifecycle_stage=S.OBSERVE, freeze=True)
    action = action_for(event(kind), default_policy(), posture)
    assert action.freeze and action.decision is None


@pytest.mark.parametrize("kind", list(K))
def test_missing_policy_fails_closed_to_observe(kind: K) -> None:
    action = action_for(event(kind), None, Posture(lifecycle_stage=S.PAPER))
    assert action.target_stage == S.OBSERVE and action.freeze
    assert action.decision == Decision.DEMOTE


def test_drawdown_breaker_follows_the_tenant_policy() -> None:
    lenient = default_policy().model_copy(
        update={
            "risk_thresholds": default_policy().risk_thresholds.model_copy(
                update={"drawdown_breaker_critical": False}
            )
        }
    )
    action = action_for(event(K.DRAWDOWN_BREAKER), lenient, Posture(lifecycle_stage=S.PAPER))
    assert action.decision is None and action.severity == Severity.WARNING
    assert len(action.warnings) == 1  # counted against the warning budget instead


def test_a_concentration_warning_is_counted_not_demoted() -> None:
    posture = Posture(lifecycle_stage=S.PAPER)
    action = action_for(
        event(K.CONCENTRATION_VIOLATION, Severity.WARNING), default_policy(), posture
    )
    assert action.decision is None and action.warnings == [NOW]


@pytest.mark.parametrize(
    "kind",
    [K.DAILY_LOSS_LIMIT_BREACHED, K.UNAUTHORIZED_EXECUTION_ATTEMPT, K.CIRCUIT_BREAKER_CRITICAL],
)
@pytest.mark.parametrize("severity", [Severity.WARNING, Severity.INFO])
def test_hard_triggers_demote_whatever_severity_they_carry(kind: K, severity: Severity) -> None:
    action = action_for(event(kind, severity), default_policy(), Posture(lifecycle_stage=S.PAPER))
    assert action.decision == Decision.DEMOTE and action.target_stage == S.SHADOW


def budget(max_warnings: int, window_seconds: int) -> PromotionPolicy:
    p = default_policy()
    wb = p.risk_thresholds.warning_budget.model_copy(
        update={"max_warnings": max_warnings, "window_seconds": window_seconds}
    )
    return p.model_copy(
        update={"risk_thresholds": p.risk_thresholds.model_copy(update={"warning_budget": wb})}
    )


def warn(policy: PromotionPolicy, posture: Posture, at: datetime) -> tuple[DemotionAction, Posture]:
    action = action_for(event(K.CIRCUIT_BREAKER_WARNING, at=at), policy, posture)
    return action, posture.model_copy(update={"warnings": action.warnings})


def test_warning_budget_default_is_three_per_day() -> None:
    policy = default_policy()
    assert policy.risk_thresholds.warning_budget.max_warnings == 3
    assert policy.risk_thresholds.warning_budget.window_seconds == 86_400
    posture = Posture(lifecycle_stage=S.PAPER)
    for i in range(3):
        action, posture = warn(policy, posture, NOW + timedelta(hours=i))
        assert action.decision is None and action.severity == Severity.WARNING
        assert len(action.warnings) == i + 1
    fourth, _ = warn(policy, posture, NOW + timedelta(hours=4))
    assert fourth.decision == Decision.DEMOTE and fourth.target_stage == S.SHADOW
    assert fourth.reason_code == "warning_budget_exceeded" and not fourth.freeze
    assert fourth.warnings == []  # a demotion spends the budget


def test_the_window_slides() -> None:
    policy = budget(max_warnings=2, window_seconds=3_600)
    posture = Posture(lifecycle_stage=S.PAPER)
    _, posture = warn(policy, posture, NOW)
    _, posture = warn(policy, posture, NOW + timedelta(minutes=30))
    # The first warning leaves the window exactly one hour later: still two in the window.
    third, slid = warn(policy, posture, NOW + timedelta(hours=1))
    assert third.decision is None and slid.warnings == [
        NOW + timedelta(minutes=30),
        NOW + timedelta(hours=1),
    ]
    # A third inside the hour exceeds the budget of two.
    fourth, _ = warn(policy, slid, NOW + timedelta(hours=1, minutes=10))
    assert fourth.decision == Decision.DEMOTE


def test_an_exhausted_budget_in_a_safe_stage_changes_nothing() -> None:
    policy = budget(max_warnings=0, window_seconds=60)
    action, _ = warn(policy, Posture(lifecycle_stage=S.SHADOW), NOW)
    assert action.reason_code == "warning_budget_exceeded"
    assert action.decision is None and action.target_stage == S.SHADOW


def test_out_of_order_warnings_are_counted_in_time_order() -> None:
    policy = budget(max_warnings=5, window_seconds=3_600)
    posture = Posture(lifecycle_stage=S.PAPER, warnings=[NOW + timedelta(minutes=20)])
    action, _ = warn(policy, posture, NOW)
    assert action.warnings == [NOW, NOW + timedelta(minutes=20)]
