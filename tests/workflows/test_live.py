"""PAPER -> LIVE: the 3-step governance in order, two distinct final authorizers, each with a
single-use confirmation token, and a LIVE enablement that lapses."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest

from governance.gate import GateInputs, GateMode, decide
from governance.live import issue
from governance.promotion import Phase, promotion_workflow_id
from governance.roles import Role
from governance.stages import LifecycleStage as S
from tests.workflows.evidence_fixtures import seed_evidence
from tests.workflows.harness import Stack, fast_policy, keep_history
from workflows import client as wf


async def confirm(stack: Stack, user: str, request_id: str) -> str:
    """What `stratgate live confirm` does: a fresh token, stored as a hash."""
    token = secrets.token_urlsafe(16)
    await stack.store.put_confirmation_token(
        issue(
            token=token,
            tenant_id=stack.tenant,
            request_id=request_id,
            user=user,
            now=datetime.now(UTC),
            ttl_seconds=300,
        )
    )
    return token


def request_workflow(stack: Stack, strategy: str) -> str:
    return promotion_workflow_id(stack.tenant, "quant", strategy)


async def sign_off_before_the_finals(stack: Stack, strategy: str) -> None:
    """Risk, then ops; a final authorizer before them, or without a token, is refused."""
    with pytest.raises(wf.Refused) as early:  # the 3 steps go in order
        await stack.approve(strategy, "dave", Role.FINAL_AUTHORIZER, token="x")
    assert early.value.field == "role"
    await stack.approve(strategy, "bob", Role.RISK_APPROVER)
    await stack.approve(strategy, "carol", Role.OPS_APPROVER)
    with pytest.raises(wf.Refused) as bare:
        await stack.approve(strategy, "dave", Role.FINAL_AUTHORIZER)
    assert bare.value.code == "confirmation_token_required"


async def test_paper_to_live_with_confirmation_tokens(stack_factory: Stack) -> None:
    stack = stack_factory
    await stack.seed(fast_policy(), {"edge": S.PAPER})
    evaluator = seed_evidence(stack.tmp / "evidence", stack.tenant, {"edge": 0.6})
    async with stack.worker(evaluator):
        request = await stack.request("edge", S.LIVE)
        await stack.wait_phase("edge", Phase.AWAITING_APPROVALS)
        await sign_off_before_the_finals(stack, "edge")
        erins = await confirm(stack, "erin", request.request_id)
        with pytest.raises(wf.Refused) as borrowed:  # a token is its holder's only
            await stack.approve("edge", "dave", Role.FINAL_AUTHORIZER, token=erins)
        assert "issued to erin" in borrowed.value.message
        await stack.approve(
            "edge",
            "dave",
            Role.FINAL_AUTHORIZER,
            token=await confirm(stack, "dave", request.request_id),
        )
        with pytest.raises(wf.Refused) as twice:  # two distinct people
            await stack.approve(
                "edge",
                "dave",
                Role.FINAL_AUTHORIZER,
                token=await confirm(stack, "dave", request.request_id),
            )
        assert twice.value.field == "approved_by"
        await stack.approve("edge", "erin", Role.FINAL_AUTHORIZER, token=erins)
        outcome = await stack.outcome("edge")
        await keep_history(stack.client, request_workflow(stack, "edge"), "promotion_paper_to_live")
    assert outcome.phase == Phase.COMMITTED
    (record,) = await stack.store.list_records(stack.tenant, "quant", "edge")
    assert [a.role for a in record.approved_by] == [
        Role.RISK_APPROVER,
        Role.OPS_APPROVER,
        Role.FINAL_AUTHORIZER,
        Role.FINAL_AUTHORIZER,
    ]
    doc = await stack.store.get_strategy(stack.tenant, "quant", "edge")
    assert doc is not None and doc.lifecycle_stage == S.LIVE and doc.live_enabled_until is not None
    assert doc.live_enabled_until == record.live_enabled_until
    rails = dict(
        kill_switch=False,
        marketdata_age_ms=10,
        agent_state="READY",
        trading_mode="live",
        broker_host="api.broker.example",
        global_shadow_mode=False,
        strategy=doc,
        policy=fast_policy(),
    )
    assert decide(GateInputs(now=datetime.now(UTC), **rails)).mode == GateMode.LIVE
    lapsed = doc.live_enabled_until + timedelta(seconds=1)
    late = decide(GateInputs(now=lapsed, **rails))
    # Lapsed: no LIVE, and a live runtime does not place paper orders either.
    assert late.mode == GateMode.SIMULATE and not late.executing
    assert "live_enablement_lapsed" in [r.code for r in late.reasons]


async def test_live_enablement_is_renewed_through_the_same_governance(
    stack_factory: Stack,
) -> None:
    stack = stack_factory
    # Registered as LIVE (it lived there before stratgate): no enablement until one is granted.
    await stack.seed(fast_policy(), {"veteran": S.LIVE})
    evaluator = seed_evidence(stack.tmp / "evidence", stack.tenant, {})
    async with stack.worker(evaluator):
        request = await stack.request("veteran", S.LIVE)
        # No stability window to measure: straight to the approvals of PAPER -> LIVE, in order.
        await stack.wait_phase("veteran", Phase.AWAITING_APPROVALS)
        await sign_off_before_the_finals(stack, "veteran")
        for final in ("dave", "erin"):
            token = await confirm(stack, final, request.request_id)
            await stack.approve("veteran", final, Role.FINAL_AUTHORIZER, token=token)
        outcome = await stack.outcome("veteran")
        await keep_history(
            stack.client, request_workflow(stack, "veteran"), "promotion_live_renewal"
        )
    assert outcome.phase == Phase.COMMITTED
    (record,) = await stack.store.list_records(stack.tenant, "quant", "veteran")
    assert (record.decision, record.from_stage, record.to_stage) == ("promote", S.LIVE, S.LIVE)
    assert record.reason_code == "live_enablement_renewed"
    assert record.live_enabled_until is not None
    doc = await stack.store.get_strategy(stack.tenant, "quant", "veteran")
    assert doc is not None and doc.lifecycle_stage == S.LIVE
    assert doc.live_enabled_until == record.live_enabled_until
    assert doc.last_stage_change_record_id == record.record_id
