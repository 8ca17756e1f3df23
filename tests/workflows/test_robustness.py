"""Robustness at the edges of the workflows: a fresh directory, a retried risk activity."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from activities.risk import ApplyRiskEvent, RiskActivities
from governance.assertion import ApprovalClaim, sign
from governance.demotion import risk_audit_id, risk_change_ids
from governance.promotion import Phase
from governance.risk_events import RiskEvent
from governance.risk_events import RiskEventKind as K
from governance.roles import Role
from governance.stages import Decision
from governance.stages import LifecycleStage as S
from tests.workflows.evidence_fixtures import seed_evidence
from tests.workflows.harness import SIGNER, Stack, fast_policy
from workflows import client as wf
from workflows.promotion_state import ApproveInput


async def test_a_person_added_to_the_directory_can_approve_at_once(stack_factory: Stack) -> None:
    stack = stack_factory
    await stack.seed(fast_policy(), {"edge": S.OBSERVE})
    evaluator = seed_evidence(stack.tmp / "evidence", stack.tenant, {"edge": 0.6})
    async with stack.worker(evaluator):
        await stack.request("edge", S.SHADOW)
        await stack.wait_phase("edge", Phase.AWAITING_APPROVALS)
        with pytest.raises(wf.Refused) as unknown:
            await stack.approve("edge", "zoe", Role.STRATEGY_REVIEWER)
        assert unknown.value.field == "approved_by" and "directory" in unknown.value.message
        assert (await stack.status("edge")).phase == Phase.AWAITING_APPROVALS  # nothing counted
        await stack.store.put_approver(stack.tenant, "zoe", [Role.STRATEGY_REVIEWER])
        await stack.approve("edge", "zoe", Role.STRATEGY_REVIEWER)  # no wait for a refresh
        outcome = await stack.outcome("edge")
    assert outcome.phase == Phase.COMMITTED
    (record,) = await stack.store.list_records(stack.tenant, "quant", "edge")
    assert [a.uid for a in record.approved_by] == ["zoe"]


async def test_a_retried_risk_activity_finishes_its_effect_exactly_once(
    stack_factory: Stack,
) -> None:
    """The retry after a commit landed returns the same action and record, and writes nothing."""
    stack = stack_factory
    await stack.seed(fast_policy(), {"momo": S.PAPER})
    activities = RiskActivities(stack.store, stack.client)
    event = RiskEvent(event_id="dd-1", kind=K.DRAWDOWN_BREAKER, ts=datetime.now(UTC))
    record_id, audit_id = risk_change_ids(stack.tenant, "quant", "momo", event.event_id)
    inp = ApplyRiskEvent(
        tenant_id=stack.tenant,
        uid="quant",
        strategy_id="momo",
        event=event,
        warnings=[],
        record_id=record_id,
        audit_event_id=audit_id,
        now=datetime.now(UTC),
    )
    first = await activities.apply_one(inp)
    again = await activities.apply_one(inp)
    assert first.action is not None and first.action.decision == Decision.DEMOTE
    assert again.record_id == first.record_id == record_id
    assert again.action is not None and again.action.target_stage == first.action.target_stage
    (record,) = await stack.store.list_records(stack.tenant, "quant", "momo")
    assert record.to_stage == S.SHADOW and record.freeze
    audit = await stack.store.list_audit_events(stack.tenant, "quant", "momo")
    marker = risk_audit_id(stack.tenant, "quant", "momo", event.event_id)
    assert sorted(e.event_id for e in audit) == sorted([audit_id, marker])


async def test_temporal_access_alone_cannot_forge_an_approval(stack_factory: Stack) -> None:
    """An update sent straight to Temporal, without the API's signed assertion, or with one
    for another person or report, or signed by an unpublished key, is refused naming why."""
    stack = stack_factory
    await stack.seed(fast_policy(), {"edge": S.OBSERVE})
    evaluator = seed_evidence(stack.tmp / "evidence", stack.tenant, {"edge": 0.6})
    async with stack.worker(evaluator):
        await stack.request("edge", S.SHADOW)
        status = await stack.wait_phase("edge", Phase.AWAITING_APPROVALS)
        assert status.report is not None
        claim = ApprovalClaim(
            request_id=status.request_id,
            role=Role.STRATEGY_REVIEWER,
            person="alice",
            metrics_hash=status.report.metrics_hash,
            issued_at=datetime.now(UTC),
            tenant_id=stack.tenant,
        )
        forged = {
            "no assertion": None,
            "unpublished key": sign(Ed25519PrivateKey.generate(), claim),
            "another person": sign(SIGNER, claim.model_copy(update={"person": "bob"})),
            "another report": sign(SIGNER, claim.model_copy(update={"metrics_hash": "0" * 64})),
        }
        for case, assertion in forged.items():
            inp = ApproveInput(
                approver="alice",
                role=Role.STRATEGY_REVIEWER,
                metrics_hash=status.report.metrics_hash,
                assertion=assertion,
            )
            with pytest.raises(wf.Refused) as refused:
                await wf.approve(stack.client, stack.tenant, "quant", "edge", inp)
            assert refused.value.code == "assertion_refused", (case, refused.value.message)
            assert refused.value.field == "assertion"
        assert (await stack.status("edge")).approvals == []  # nothing counted
        inp = ApproveInput(
            approver="alice",
            role=Role.STRATEGY_REVIEWER,
            metrics_hash=status.report.metrics_hash,
            assertion=sign(SIGNER, claim),
        )
        await wf.approve(stack.client, stack.tenant, "quant", "edge", inp)
        assert (await stack.outcome("edge")).phase == Phase.COMMITTED


async def test_an_approval_asked_again_under_its_update_id_counts_once(
    stack_factory: Stack,
) -> None:
    """What the application layer does when a request does not answer in time: it asks again
    under the same update id, and Temporal runs that update once."""
    stack = stack_factory
    await stack.seed(fast_policy(), {"edge": S.SHADOW})
    evaluator = seed_evidence(stack.tmp / "evidence", stack.tenant, {"edge": 0.6})
    async with stack.worker(evaluator):
        await stack.request("edge", S.PAPER)
        status = await stack.wait_phase("edge", Phase.AWAITING_APPROVALS)
        assert status.report is not None
        claim = ApprovalClaim(
            request_id=status.request_id,
            role=Role.RISK_APPROVER,
            person="bob",
            metrics_hash=status.report.metrics_hash,
            issued_at=datetime.now(UTC),
            tenant_id=stack.tenant,
        )
        inp = ApproveInput(
            approver="bob",
            role=Role.RISK_APPROVER,
            metrics_hash=status.report.metrics_hash,
            assertion=sign(SIGNER, claim),
        )
        first = await wf.approve(stack.client, stack.tenant, "quant", "edge", inp, "retry-1")
        again = await wf.approve(stack.client, stack.tenant, "quant", "edge", inp, "retry-1")
        assert [a.approved_by for a in first.approvals] == ["bob"]
        assert again.approvals == first.approvals  # the first run's answer, not a second run
        # A new update id is a new approval: refused, bob has approved already.
        with pytest.raises(wf.Refused):
            await wf.approve(stack.client, stack.tenant, "quant", "edge", inp, "retry-2")
        status = await stack.status("edge")
        assert status.phase == Phase.AWAITING_APPROVALS and len(status.approvals) == 1
        audit = await stack.store.list_audit_events(stack.tenant)
        approved = [e for e in audit if e.event_type == "strategy.promotion_approved"]
        assert len(approved) == 1
