"""Approval rules, expiry, the risk-event mapping of spec sections 2 and 5, and the gate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from governance.approvals import check_approval, check_rejection, missing_roles, split_expired
from governance.errors import ApprovalRefused
from governance.gate import GateInputs, GateMode, decide, is_paper_host, kill_switch_engaged
from governance.policy import default_policy
from governance.records import Approval, StrategyDoc
from governance.risk_events import Posture, RiskEvent, action_for
from governance.risk_events import RiskEventKind as K
from governance.roles import Role as R
from governance.stages import Decision, execution_mode_for
from governance.stages import LifecycleStage as S

NOW = datetime(2026, 11, 25, 15, tzinfo=UTC)
LIVE = default_policy().approvals_for("paper_to_live")
PAPER = default_policy().approvals_for("shadow_to_paper")
DIRECTORY = {
    "bob": [R.RISK_APPROVER],
    "carol": [R.OPS_APPROVER],
    "dave": [R.FINAL_AUTHORIZER],
    "erin": [R.FINAL_AUTHORIZER],
    "zed": [R.RISK_APPROVER, R.OPS_APPROVER],
}


def signed(*pairs: tuple[str, R]) -> list[Approval]:
    return [Approval(role=r, approved_by=u, approved_at=NOW) for u, r in pairs]


def approve(req, approvals, who, role, requester="quant"):  # type: ignore[no-untyped-def]
    return check_approval(
        requirement=req,
        approvals=approvals,
        requested_by=requester,
        approver=who,
        role=role,
        directory_roles=DIRECTORY.get(who),
    )


@pytest.mark.parametrize(
    ("approvals", "who", "role", "field", "words"),
    [
        ([], "bob", R.STRATEGY_REVIEWER, "role", "does not hold"),
        ([], "mallory", R.RISK_APPROVER, "approved_by", "not in the tenant"),
        ([], "quant", R.RISK_APPROVER, "approved_by", "not in the tenant"),
        ([("bob", R.RISK_APPROVER)], "zed", R.RISK_APPROVER, "role", "already filled"),
        (
            [("zed", R.RISK_APPROVER)],
            "zed",
            R.OPS_APPROVER,
            "approved_by",
            "one person fills one role",
        ),
        ([], "carol", R.OPS_APPROVER, "role", "in order"),
    ],
)
def test_live_approval_refusals(approvals, who, role, field, words) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ApprovalRefused) as refused:
        approve(LIVE, signed(*approvals), who, role)
    assert refused.value.field == field and words in refused.value.message


def test_live_needs_two_distinct_final_authorizers_in_order() -> None:
    done = signed(("bob", R.RISK_APPROVER), ("carol", R.OPS_APPROVER), ("dave", R.FINAL_AUTHORIZER))
    assert missing_roles(LIVE, done) == [R.FINAL_AUTHORIZER]
    with pytest.raises(ApprovalRefused):
        approve(LIVE, done, "dave", R.FINAL_AUTHORIZER)
    assert approve(LIVE, done, "erin", R.FINAL_AUTHORIZER) == R.FINAL_AUTHORIZER


def test_requester_never_approves_and_rejection_needs_a_needed_role() -> None:
    directory = {"bob": [R.RISK_APPROVER]}
    with pytest.raises(ApprovalRefused) as own:
        check_approval(
            requirement=PAPER,
            approvals=[],
            requested_by="bob",
            approver="bob",
            role=R.RISK_APPROVER,
            directory_roles=directory["bob"],
        )
    assert own.value.field == "approved_by"
    with pytest.raises(ApprovalRefused):
        check_rejection(
            requirement=PAPER,
            requested_by="quant",
            rejector="bob",
            role=R.STRATEGY_REVIEWER,
            directory_roles=[R.STRATEGY_REVIEWER],
        )
    assert (
        check_rejection(
            requirement=PAPER,
            requested_by="quant",
            rejector="bob",
            role=R.RISK_APPROVER,
            directory_roles=directory["bob"],
        )
        == R.RISK_APPROVER
    )


def test_approvals_expire_after_ttl() -> None:
    old = Approval(role=R.RISK_APPROVER, approved_by="bob", approved_at=NOW - timedelta(days=4))
    fresh = Approval(role=R.OPS_APPROVER, approved_by="carol", approved_at=NOW - timedelta(days=1))
    active, expired = split_expired([old, fresh], NOW, 3 * 86_400)
    assert active == [fresh] and expired == [old]


def event(kind: K, severity: str | None = None, at: datetime = NOW) -> RiskEvent:
    return RiskEvent(event_id="e", kind=kind, severity=severity, ts=at)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "stage", "target", "freeze", "decision"),
    [
        (K.DAILY_LOSS_LIMIT_BREACHED, S.PAPER, S.SHADOW, True, Decision.DEMOTE),
        (K.DRAWDOWN_BREAKER, S.LIVE, S.SHADOW, True, Decision.DEMOTE),
        (K.CONCENTRATION_VIOLATION, S.PAPER, S.SHADOW, False, Decision.DEMOTE),
        (K.UNAUTHORIZED_EXECUTION_ATTEMPT, S.PAPER, S.SHADOW, True, Decision.DEMOTE),
        (K.CIRCUIT_BREAKER_CRITICAL, S.SHADOW, S.SHADOW, True, Decision.FREEZE),
        (K.MARKETDATA_STALE, S.PAPER, S.OBSERVE, True, Decision.DEMOTE),
        (K.QUOTE_FIELDS_MISSING, S.SHADOW, S.OBSERVE, True, Decision.DEMOTE),
        (K.CLOCK_SKEW, S.OBSERVE, S.OBSERVE, True, Decision.FREEZE),
        (K.SCHEMA_DRIFT, S.LIVE, S.OBSERVE, True, Decision.DEMOTE),
        (K.REPLAY_OUT_OF_ORDER, S.PAPER, S.OBSERVE, True, Decision.DEMOTE),
        (K.KILL_SWITCH_ENABLED, S.PAPER, S.SHADOW, False, Decision.DEMOTE),
        (K.AGENT_NOT_READY, S.LIVE, S.SHADOW, False, Decision.DEMOTE),
        (K.BROKER_INSTABILITY, S.PAPER, S.SHADOW, False, Decision.DEMOTE),
        (K.KILL_SWITCH_ENABLED, S.SHADOW, S.SHADOW, False, None),
    ],
)
def test_event_to_action(
    kind: K, stage: S, target: S, freeze: bool, decision: Decision | None
) -> None:
    action = action_for(event(kind), default_policy(), Posture(lifecycle_stage=stage))
    assert (action.target_stage, action.freeze, action.decision) == (target, freeze, decision)
    if kind in (K.MARKETDATA_STALE, K.CLOCK_SKEW):
        assert action.incident and action.freeze_reason == "data_integrity"
        assert action.audit_event_type == "ops.data_integrity_event"


def test_warning_budget_over_a_sliding_window() -> None:
    policy = default_policy()  # 3 warnings per 24h are allowed
    posture = Posture(lifecycle_stage=S.PAPER)
    for i in range(3):
        action = action_for(
            event(K.CIRCUIT_BREAKER_WARNING, at=NOW + timedelta(hours=i)), policy, posture
        )
        assert action.decision is None
        posture = posture.model_copy(update={"warnings": action.warnings})
    aged = posture.model_copy(
        update={"warnings": [w - timedelta(days=2) for w in posture.warnings]}
    )
    assert (
        action_for(
            event(K.CIRCUIT_BREAKER_WARNING, at=NOW + timedelta(hours=4)), policy, aged
        ).decision
        is None
    )
    fourth = action_for(
        event(K.CIRCUIT_BREAKER_WARNING, at=NOW + timedelta(hours=4)), policy, posture
    )
    assert fourth.decision == Decision.DEMOTE and fourth.reason_code == "warning_budget_exceeded"
    assert fourth.warnings == []


def test_missing_policy_fails_closed_to_observe() -> None:
    action = action_for(event(K.CONCENTRATION_VIOLATION), None, Posture(lifecycle_stage=S.PAPER))
    assert action.target_stage == S.OBSERVE and action.freeze


def ready(stage: S, **over: object) -> GateInputs:
    doc = StrategyDoc(
        tenant_id="t",
        uid="u",
        strategy_id="s",
        lifecycle_stage=stage,
        execution_mode=execution_mode_for(stage),
    )
    base = dict(
        now=NOW,
        kill_switch=False,
        marketdata_age_ms=50,
        agent_state="READY",
        trading_mode="paper",
        broker_host="https://paper-api.alpaca.markets",
        global_shadow_mode=False,
        strategy=doc,
        policy=default_policy(),
    )
    return GateInputs(**{**base, **over})  # type: ignore[arg-type]


def test_gate_examples() -> None:
    assert decide(ready(S.PAPER)).mode == GateMode.PAPER
    assert decide(ready(S.SHADOW)).mode == GateMode.SIMULATE
    assert decide(ready(S.PAPER, marketdata_age_ms=60_000)).mode == GateMode.NO_EXECUTION
    assert decide(ready(S.PAPER, agent_state="DEGRADED")).mode == GateMode.NO_EXECUTION
    assert (
        decide(ready(S.PAPER, broker_host="https://api.alpaca.markets")).mode == GateMode.SIMULATE
    )
    assert decide(ready(S.PAPER, global_shadow_mode=True)).mode == GateMode.SIMULATE
    assert (
        decide(ready(S.LIVE, trading_mode="live", broker_host="api.broker.com")).mode
        == GateMode.PAPER
    )
    circuit = ready(S.PAPER).strategy.model_copy(update={"execution_mode": "SHADOW_MODE"})  # type: ignore[union-attr]
    assert decide(ready(S.PAPER, strategy=circuit)).mode == GateMode.SIMULATE
    assert is_paper_host("paper-api.alpaca.markets") and not is_paper_host("api.alpaca.markets")


def test_kill_switch_from_env_or_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert kill_switch_engaged({"EXECUTION_HALTED": "1"})
    assert not kill_switch_engaged({"EXECUTION_HALTED": "0"})
    halt = tmp_path / "HALT"
    assert not kill_switch_engaged({"EXECUTION_HALT_FILE": str(halt)})
    halt.write_text("")
    assert kill_switch_engaged({"EXECUTION_HALT_FILE": str(halt)})
