"""Promotion requests end to end on a real Temporal server, in real time, with short windows."""

from __future__ import annotations

import pytest
from temporalio.api.enums.v1 import EventType

from governance.chain import verify_chain
from governance.promotion import Phase
from governance.report import Verdict
from governance.risk_events import RiskEventKind as K
from governance.roles import Role
from governance.stages import Decision
from governance.stages import LifecycleStage as S
from tests.workflows.evidence_fixtures import seed_evidence
from tests.workflows.harness import Stack, fast_policy, keep_history
from workflows import client as wf
from workflows.promotion_state import CancelInput


async def test_observe_to_shadow_with_a_strategy_reviewer(stack_factory: Stack) -> None:
    stack = stack_factory
    await stack.seed(fast_policy(), {"edge": S.OBSERVE})
    evaluator = seed_evidence(stack.tmp / "evidence", stack.tenant, {"edge": 0.6})
    async with stack.worker(evaluator):
        await stack.request("edge", S.SHADOW)
        status = await stack.wait_phase("edge", Phase.AWAITING_APPROVALS)
        assert status.report is not None and status.report.verdict == "ELIGIBLE"
        assert status.missing_roles == [Role.STRATEGY_REVIEWER]
        await stack.approve("edge", "alice", Role.STRATEGY_REVIEWER, comment="edge is real")
        first = await stack.outcome("edge")
        assert first.phase == Phase.COMMITTED, first
        await keep_history(
            stack.client, f"promotion/{stack.tenant}/quant/edge", "promotion_observe_to_shadow"
        )
        # Just promoted: the SHADOW window has no evidence yet, so a PAPER request waits.
        await stack.request("edge", S.PAPER)
        status = await stack.wait_phase("edge", Phase.WAITING_FOR_WINDOW)
        await wf.cancel(stack.client, stack.tenant, "quant", "edge", wf_cancel("quant"))
        assert (await stack.outcome("edge")).phase == Phase.CANCELLED
    records = await stack.store.list_records(stack.tenant, "quant", "edge")
    assert [(r.from_stage, r.to_stage) for r in records] == [(S.OBSERVE, S.SHADOW)]
    assert records[0].approved_by[0].uid == "alice" and verify_chain(records).ok


async def test_shadow_to_paper_with_risk_and_ops(stack_factory: Stack) -> None:
    stack = stack_factory
    await stack.seed(fast_policy(), {"edge": S.SHADOW})
    evaluator = seed_evidence(stack.tmp / "evidence", stack.tenant, {"edge": 0.6})
    async with stack.worker(evaluator):
        await stack.request("edge", S.PAPER)
        await stack.wait_phase("edge", Phase.AWAITING_APPROVALS)
        status = await stack.approve("edge", "bob", Role.RISK_APPROVER)
        assert (
            status.missing_roles == [Role.OPS_APPROVER] and status.phase == Phase.AWAITING_APPROVALS
        )
        await stack.approve("edge", "carol", Role.OPS_APPROVER)
        outcome = await stack.outcome("edge")
    assert outcome.phase == Phase.COMMITTED
    records = await stack.store.list_records(stack.tenant, "quant", "edge")
    assert [(r.from_stage, r.to_stage) for r in records] == [(S.SHADOW, S.PAPER)]
    assert [a.uid for a in records[0].approved_by] == ["bob", "carol"]
    # Each approval names the report its approver saw; the record adds the final check's report.
    for approval in records[0].approved_by:
        shown = await stack.store.get_evaluation_report(stack.tenant, approval.metrics_hash or "")
        assert shown is not None and shown.verdict == Verdict.ELIGIBLE
    assert records[0].policy_version == "test.v1" and verify_chain(records).ok
    cited = await stack.store.get_policy(stack.tenant)  # and the version, by its chain hash
    assert cited is not None and cited.policy_hash and records[0].policy_hash == cited.policy_hash
    doc = await stack.store.get_strategy(stack.tenant, "quant", "edge")
    assert doc is not None and doc.lifecycle_stage == S.PAPER and doc.execution_mode == "PAPER"
    assert doc.last_stage_change_record_id == records[-1].record_id
    report = await stack.store.get_evaluation_report(
        stack.tenant, records[0].metrics_snapshot.metrics_hash or ""
    )
    assert report is not None and report.verdict == Verdict.ELIGIBLE
    events = [
        e.event_type for e in await stack.store.list_audit_events(stack.tenant, "quant", "edge")
    ]
    for expected in (
        "strategy.promotion_requested",
        "strategy.promotion_approved",
        "strategy.promoted",
    ):
        assert expected in events
    (request,) = await stack.store.list_requests(stack.tenant, "quant", "edge")
    assert request.status == "approved" and request.record_id == records[0].record_id


async def test_every_approval_rule_refuses_before_history(stack_factory: Stack) -> None:
    stack = stack_factory
    await stack.seed(fast_policy(), {"edge": S.SHADOW})
    evaluator = seed_evidence(stack.tmp / "evidence", stack.tenant, {"edge": 0.6})
    async with stack.worker(evaluator):
        await stack.request("edge", S.PAPER)
        await stack.wait_phase("edge", Phase.AWAITING_APPROVALS)
        cases = [
            ("alice", Role.STRATEGY_REVIEWER, "role"),  # a role this transition does not need
            ("quant", Role.RISK_APPROVER, "approved_by"),  # the requester is no approver here
            ("mallory", Role.RISK_APPROVER, "approved_by"),  # unknown person
            ("carol", Role.RISK_APPROVER, "role"),  # carol is ops, not risk
        ]
        for who, role, field in cases:
            with pytest.raises(wf.Refused) as refused:
                await stack.approve("edge", who, role)
            assert refused.value.field == field, (who, role, refused.value.message)
        with pytest.raises(wf.Refused) as stale:
            await stack.approve("edge", "bob", Role.RISK_APPROVER, metrics_hash="0" * 64)
        assert stale.value.code == "report_changed"
        await stack.approve("edge", "bob", Role.RISK_APPROVER)
        with pytest.raises(wf.Refused) as again:  # a duplicate approval changes nothing
            await stack.approve("edge", "bob", Role.RISK_APPROVER)
        assert again.value.field == "approved_by"
        status = await stack.status("edge")
        assert [a.approved_by for a in status.approvals] == ["bob"]
        handle = wf.promotion_handle(stack.client, stack.tenant, "quant", "edge")
        accepted = [
            e
            async for e in handle.fetch_history_events()
            if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
        ]
        # Rule refusals never enter history; the two directory refusals (mallory, carol) are
        # decided by the handler on the current directory: in history, refused, not counted.
        assert len(accepted) == 3
        await wf.cancel(stack.client, stack.tenant, "quant", "edge", wf_cancel("quant"))
        outcome = await stack.outcome("edge")
    assert outcome.phase == Phase.CANCELLED
    assert await stack.store.list_records(stack.tenant, "quant", "edge") == []


def wf_cancel(user: str) -> CancelInput:
    return CancelInput(user=user, reason="changed my mind")


async def test_requester_cannot_approve_and_reject_ends_it(stack_factory: Stack) -> None:
    stack = stack_factory
    approvers = {
        "alice": [Role.STRATEGY_REVIEWER],
        "bob": [Role.RISK_APPROVER, Role.STRATEGY_REVIEWER],
    }
    await stack.seed(fast_policy(), {"edge": S.OBSERVE}, approvers=approvers)
    evaluator = seed_evidence(stack.tmp / "evidence", stack.tenant, {"edge": 0.6})
    async with stack.worker(evaluator):
        await stack.request("edge", S.SHADOW, by="alice")
        await stack.wait_phase("edge", Phase.AWAITING_APPROVALS)
        with pytest.raises(wf.Refused) as own:
            await stack.approve("edge", "alice", Role.STRATEGY_REVIEWER)
        assert own.value.field == "approved_by" and "requested" in own.value.message
        from workflows.promotion_state import RejectInput

        await wf.reject(
            stack.client,
            stack.tenant,
            "quant",
            "edge",
            RejectInput(user="bob", role=Role.STRATEGY_REVIEWER, comment="too thin"),
        )
        outcome = await stack.outcome("edge")
    assert outcome.phase == Phase.REJECTED and "too thin" in (outcome.status_reason or "")
    (request,) = await stack.store.list_requests(stack.tenant, "quant", "edge")
    assert request.status == "rejected"


async def test_no_edge_is_ineligible_naming_the_criteria(stack_factory: Stack) -> None:
    stack = stack_factory
    await stack.seed(fast_policy(), {"noise": S.OBSERVE})
    evaluator = seed_evidence(stack.tmp / "evidence", stack.tenant, {"noise": 0.0})
    async with stack.worker(evaluator):
        await stack.request("noise", S.SHADOW)
        outcome = await stack.outcome("noise")
    assert outcome.phase == Phase.INELIGIBLE
    assert "ic_mean" in (outcome.status_reason or "") or "hit_rate" in (outcome.status_reason or "")


async def test_second_request_in_flight_is_refused_by_name(stack_factory: Stack) -> None:
    stack = stack_factory
    await stack.seed(fast_policy(), {"edge": S.OBSERVE})
    evaluator = seed_evidence(stack.tmp / "evidence", stack.tenant, {"edge": 0.6})
    async with stack.worker(evaluator):
        first = await stack.request("edge", S.SHADOW)
        with pytest.raises(wf.InFlight) as refused:
            await stack.request("edge", S.SHADOW, by="alice")
        assert first.request_id in refused.value.message


async def test_risk_event_while_awaiting_approvals_preempts(stack_factory: Stack) -> None:
    stack = stack_factory
    await stack.seed(fast_policy(), {"edge": S.SHADOW})
    evaluator = seed_evidence(stack.tmp / "evidence", stack.tenant, {"edge": 0.6})
    async with stack.worker(evaluator):
        await stack.request("edge", S.PAPER)
        await stack.wait_phase("edge", Phase.AWAITING_APPROVALS)
        await stack.approve("edge", "bob", Role.RISK_APPROVER)
        await stack.risk("edge", K.MARKETDATA_STALE)
        outcome = await stack.outcome("edge")
        await keep_history(
            stack.client, f"promotion/{stack.tenant}/quant/edge", "promotion_preempted"
        )
    assert outcome.phase == Phase.PREEMPTED
    records = await stack.store.list_records(stack.tenant, "quant", "edge")
    assert [(r.decision, r.to_stage, r.freeze) for r in records] == [
        (Decision.DEMOTE, S.OBSERVE, True)
    ]
    (request,) = await stack.store.list_requests(stack.tenant, "quant", "edge")
    assert request.status == "preempted"
