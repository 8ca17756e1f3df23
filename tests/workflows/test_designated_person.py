"""PAPER -> LIVE needs a designated person among its approvers; the record of a promotion into
PAPER or LIVE carries the stage's limit envelope, and the gate returns it beside its decision."""

from __future__ import annotations

import pytest

from app.gate import GateQuery, check_gate
from governance.gate import GateDecision, GateMode
from governance.identity import Principal, TokenKind
from governance.promotion import Phase
from governance.roles import Role
from governance.stages import LifecycleStage as S
from tests.workflows.evidence_fixtures import seed_evidence
from tests.workflows.harness import DEMO_APPROVERS, Stack, fast_policy
from tests.workflows.test_live import confirm
from workflows import client as wf

# frank is a final authorizer without the designation; erin holds it.
APPROVERS = {**DEMO_APPROVERS, "frank": [Role.FINAL_AUTHORIZER]}


async def first_three(stack: Stack, strategy: str, request_id: str) -> None:
    await stack.approve(strategy, "bob", Role.RISK_APPROVER)
    await stack.approve(strategy, "carol", Role.OPS_APPROVER)
    dave = await confirm(stack, "dave", request_id)
    await stack.approve(strategy, "dave", Role.FINAL_AUTHORIZER, token=dave)


async def gate(stack: Stack, strategy: str) -> GateDecision:
    who = Principal(tenant_id=stack.tenant, subject="runtime", kind=TokenKind.PERSONAL)
    return await check_gate(
        stack.ports(),
        who,
        GateQuery(
            tenant_id=stack.tenant,
            uid="quant",
            strategy_id=strategy,
            marketdata_age_ms=10,
            agent_state="READY",
            trading_mode="live",
            broker_host="api.broker.example",
            kill_switch=False,
        ),
    )


async def test_live_waits_for_a_designated_person_and_records_the_envelope(
    stack_factory: Stack,
) -> None:
    stack = stack_factory
    policy = fast_policy()
    await stack.seed(policy, {"edge": S.PAPER}, approvers=APPROVERS)
    evaluator = seed_evidence(stack.tmp / "evidence", stack.tenant, {"edge": 0.6})
    async with stack.worker(evaluator):
        request = await stack.request("edge", S.LIVE)
        await stack.wait_phase("edge", Phase.AWAITING_APPROVALS)
        await first_three(stack, "edge", request.request_id)
        status = await stack.status("edge")
        assert status.missing_roles == [Role.FINAL_AUTHORIZER, Role.DESIGNATED_PERSON]
        # The last slot filled by someone without the designation: refused, nothing counted.
        with pytest.raises(wf.Refused) as refused:
            frank = await confirm(stack, "frank", request.request_id)
            await stack.approve("edge", "frank", Role.FINAL_AUTHORIZER, token=frank)
        assert "missing: designated person" in refused.value.message
        assert refused.value.field == "approved_by"
        status = await stack.status("edge")
        assert status.phase == Phase.AWAITING_APPROVALS
        assert status.missing_roles == [Role.FINAL_AUTHORIZER, Role.DESIGNATED_PERSON]
        assert await stack.store.list_records(stack.tenant, "quant", "edge") == []
        # Nor can the designation be signed as a role of its own.
        with pytest.raises(wf.Refused) as as_role:
            await stack.approve("edge", "erin", Role.DESIGNATED_PERSON)
        assert as_role.value.field == "role"
        erin = await confirm(stack, "erin", request.request_id)
        await stack.approve("edge", "erin", Role.FINAL_AUTHORIZER, token=erin)
        outcome = await stack.outcome("edge")
    assert outcome.phase == Phase.COMMITTED
    (record,) = await stack.store.list_records(stack.tenant, "quant", "edge")
    assert [(a.uid, a.designated_person) for a in record.approved_by] == [
        ("bob", None),
        ("carol", None),
        ("dave", None),
        ("erin", True),
    ]
    assert record.limit_envelope == policy.limit_envelopes.live
    decision = await gate(stack, "edge")
    assert decision.mode == GateMode.LIVE
    assert decision.limit_envelope == record.limit_envelope


async def test_a_tenant_policy_may_waive_the_designation_and_tighten_the_envelope(
    stack_factory: Stack,
) -> None:
    stack = stack_factory
    base = fast_policy().model_dump(mode="json")
    base["approval_matrix"]["paper_to_live"]["designated_person_required"] = False
    base["limit_envelopes"]["live"].update(instruments=["AAPL", "MSFT"], max_orders_per_day=50)
    policy = fast_policy(
        approval_matrix=base["approval_matrix"], limit_envelopes=base["limit_envelopes"]
    )
    await stack.seed(policy, {"edge": S.PAPER}, approvers=APPROVERS)
    evaluator = seed_evidence(stack.tmp / "evidence", stack.tenant, {"edge": 0.6})
    async with stack.worker(evaluator):
        request = await stack.request("edge", S.LIVE)
        await stack.wait_phase("edge", Phase.AWAITING_APPROVALS)
        await first_three(stack, "edge", request.request_id)
        frank = await confirm(stack, "frank", request.request_id)
        await stack.approve("edge", "frank", Role.FINAL_AUTHORIZER, token=frank)
        outcome = await stack.outcome("edge")
    assert outcome.phase == Phase.COMMITTED
    (record,) = await stack.store.list_records(stack.tenant, "quant", "edge")
    assert not any(a.designated_person for a in record.approved_by)
    assert record.limit_envelope is not None
    assert record.limit_envelope.instruments == ["AAPL", "MSFT"]
    assert record.limit_envelope.max_orders_per_day == 50
    decision = await gate(stack, "edge")
    assert decision.limit_envelope == record.limit_envelope
