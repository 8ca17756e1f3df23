"""Nothing undoes a breaker or a risk event: the pure rules behind it, as properties."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from governance.breaker import PLATFORM_BREAKER, breaker_demotion
from governance.errors import GovernanceError, PreconditionFailed
from governance.policy import PromotionPolicy, default_policy
from governance.promotion import PromotionInput, validate_request
from governance.records import Severity, StrategyDoc
from governance.risk_events import (
    HARD_TRIGGERS,
    RISK_CLASS,
    Posture,
    RiskClass,
    RiskEvent,
    action_for,
    classify,
    forbids,
)
from governance.risk_events import RiskEventKind as K
from governance.stage_change import StageChange, apply_to_strategy, build_record, check_precondition
from governance.stages import ORDER, Decision, ExecutionMode, execution_mode_for, rank
from governance.stages import LifecycleStage as S

NOW = datetime(2026, 11, 25, 15, tzinfo=UTC)
SEVERITIES: list[Severity | str | None] = [*Severity, None, "", "bogus"]


def test_every_kind_has_a_class_and_a_severity_rule() -> None:
    # A new kind added to the public contract without a class fails here, not in production.
    assert set(RISK_CLASS) == set(K)
    for kind, sender in itertools.product(K, SEVERITIES):
        severity = classify(kind.value, sender, default_policy())
        assert isinstance(severity, Severity)


@pytest.mark.parametrize("sender", SEVERITIES)
def test_hard_triggers_are_critical_whatever_the_sender_says(sender: Severity | str | None) -> None:
    for kind in HARD_TRIGGERS - {K.DRAWDOWN_BREAKER}:
        assert classify(kind.value, sender, default_policy()) == Severity.CRITICAL, kind
    assert classify(K.CIRCUIT_BREAKER_WARNING.value, sender, default_policy()) == Severity.WARNING


def test_the_policy_decides_the_drawdown_breaker_and_unknowns_fail_closed() -> None:
    lenient = PromotionPolicy(
        policy_version="p",
        risk_thresholds={"drawdown_breaker_critical": False},
    )
    assert classify("drawdown_breaker", Severity.CRITICAL, lenient) == Severity.WARNING
    assert classify("drawdown_breaker", Severity.WARNING, default_policy()) == Severity.CRITICAL
    # A risk breach keeps its sender's word, unknown severity counting as critical.
    assert classify("concentration_violation", "WARNING", None) == Severity.WARNING
    assert classify("concentration_violation", "bogus", None) == Severity.CRITICAL
    # Kinds from ingested evidence that the contract does not name.
    assert classify("desk_specific", "WARNING", None) == Severity.WARNING
    assert classify("desk_specific", None, None) == Severity.CRITICAL


@pytest.mark.parametrize("stage", ORDER)
@pytest.mark.parametrize("kind", sorted(K))
def test_an_event_forbids_every_promotion_above_what_it_allows(kind: K, stage: S) -> None:
    action = action_for(
        RiskEvent(event_id="e", kind=kind, ts=NOW), default_policy(), Posture(lifecycle_stage=stage)
    )
    assert rank(action.target_stage) <= rank(stage)  # never raises
    for target in ORDER:
        forbidden = forbids(action, target)
        above = rank(target) > rank(action.ceiling)
        assert forbidden == (above or action.freezes), (kind, stage, target)
    if RISK_CLASS[kind] == RiskClass.OPERATIONAL:
        # The case: kill_switch_enabled at SHADOW lowers nothing, yet forbids PAPER.
        assert action.ceiling == S.SHADOW and forbids(action, S.PAPER)
        assert not forbids(action, S.SHADOW)
    if RISK_CLASS[kind] == RiskClass.WARNING:
        assert not any(forbids(action, t) for t in ORDER)


def doc(stage: S, mode: ExecutionMode | None = None, **extra: object) -> StrategyDoc:
    data: dict[str, object] = {
        "tenant_id": "t",
        "uid": "u",
        "strategy_id": "s",
        "lifecycle_stage": stage,
        "chain_length": 3,
        "last_stage_change_record_id": "r3",
        **extra,
    }
    if mode is not None:
        data["execution_mode"] = mode
    return StrategyDoc.model_validate(data)


def test_no_breaker_no_record() -> None:
    for stage in ORDER:
        assert breaker_demotion(doc(stage), "p1", NOW) is None  # mode defaults to the stage's


@pytest.mark.parametrize("stage", [S.PAPER, S.LIVE])
def test_a_breakers_shadow_mode_becomes_a_governed_frozen_demotion(stage: S) -> None:
    at = NOW - timedelta(minutes=5)
    held = doc(
        stage,
        ExecutionMode.SHADOW_MODE,
        shadow_mode_reason="vix_guard_critical",
        shadow_mode_activated_at=at,
    )
    assert held.breaker_active() and held.effective_stage() == S.SHADOW
    change = breaker_demotion(held, "p1", NOW)
    assert change is not None
    assert (change.decision, change.to_stage) == (Decision.DEMOTE, S.SHADOW)
    assert change.reason_code == "vix_guard_critical"
    assert change.requested_by == PLATFORM_BREAKER and change.effective_at == at
    assert change.set_freeze and change.freeze_reason == "circuit_breaker: vix_guard_critical"
    # Two readers discovering the same breaker build the same change (one lands, one retries).
    again = breaker_demotion(held, "p1", NOW + timedelta(hours=1))
    assert again is not None and again.record_id == change.record_id
    assert again.audit_event_id == change.audit_event_id
    after = apply_to_strategy(held, build_record(change, check_precondition(change, held)))
    assert after.lifecycle_stage == S.SHADOW and not after.breaker_active()
    assert after.shadow_mode_reason == "vix_guard_critical" and after.freeze


def promote(stage: S, to: S) -> StageChange:
    return StageChange(
        tenant_id="t",
        uid="u",
        strategy_id="s",
        record_id="r4",
        audit_event_id="a4",
        decision=Decision.PROMOTE,
        expected_from_stage=stage,
        expected_last_record_id="r3",
        to_stage=to,
        reason_code="promotion_approved",
        policy_version="p1",
        requested_by="quant",
        requested_at=NOW,
        effective_at=NOW,
        correlation_id="c",
    )


def test_a_breaker_refuses_requests_and_commits_naming_execution_mode() -> None:
    held = doc(S.PAPER, ExecutionMode.SHADOW_MODE, shadow_mode_reason="vix_guard_critical")
    request = PromotionInput(
        request_id="q",
        tenant_id="t",
        uid="u",
        strategy_id="s",
        to_stage=S.LIVE,
        requested_by="quant",
        requested_at=NOW,
    )
    with pytest.raises(GovernanceError) as refused:
        validate_request(request, held, default_policy())
    assert refused.value.field == "execution_mode" and "vix_guard_critical" in str(refused.value)
    with pytest.raises(PreconditionFailed) as failed:
        check_precondition(promote(S.PAPER, S.LIVE), held)
    assert failed.value.field == "execution_mode"
    # Without the breaker the same request and commit go through.
    clear = doc(S.PAPER)
    validate_request(request, clear, default_policy())
    record = build_record(
        promote(S.PAPER, S.LIVE), check_precondition(promote(S.PAPER, S.LIVE), clear)
    )
    assert apply_to_strategy(clear, record).execution_mode == execution_mode_for(S.LIVE)
