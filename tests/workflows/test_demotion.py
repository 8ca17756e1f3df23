"""Demotions on a real Temporal server: immediate, never raising a stage, deduplicated."""

from __future__ import annotations

import asyncio
from typing import Any

from activities.contracts import EvaluateInput
from governance.chain import verify_chain
from governance.promotion import Phase
from governance.report import EligibilityReport
from governance.risk_events import RiskEventKind as K
from governance.risk_events import StoredRiskEvent
from governance.roles import Role
from governance.stages import Decision
from governance.stages import LifecycleStage as S
from tests.workflows.harness import Stack, fast_policy, keep_history
from workflows import client as wf
from workflows.demotion import DemotionWorkflow


def no_evidence_needed(inp: EvaluateInput, risk: list[StoredRiskEvent]) -> EligibilityReport:
    raise AssertionError("demotions and unfreezes never read evidence")


async def test_critical_breaker_demotes_to_shadow_and_freezes(stack_factory: Stack) -> None:
    stack = stack_factory
    await stack.seed(fast_policy(), {"momo": S.PAPER})
    async with stack.worker(no_evidence_needed):
        await stack.risk("momo", K.DAILY_LOSS_LIMIT_BREACHED)
        records = await stack.wait_records("momo", 1)
    (record,) = records
    assert (record.from_stage, record.to_stage, record.decision) == (
        S.PAPER,
        S.SHADOW,
        Decision.DEMOTE,
    )
    assert record.freeze and record.reason_code == "daily_loss_limit_breached"
    doc = await stack.store.get_strategy(stack.tenant, "quant", "momo")
    assert doc is not None
    assert doc.lifecycle_stage == S.SHADOW and doc.execution_mode == "SHADOW_MODE"
    assert doc.freeze and doc.shadow_mode_reason == "daily_loss_limit_breached"
    events = await _audit_until(stack, "momo", "risk.circuit_breaker_triggered")
    assert [e.event_type for e in events][:1] == ["strategy.demoted"]


async def test_data_integrity_demotes_to_observe_with_incident(stack_factory: Stack) -> None:
    stack = stack_factory
    await stack.seed(fast_policy(), {"momo": S.SHADOW})
    async with stack.worker(no_evidence_needed):
        await stack.risk("momo", K.CLOCK_SKEW, details={"trace_id": "tr-1", "payload_hash": "ab12"})
        (record,) = await stack.wait_records("momo", 1)
        assert record.to_stage == S.OBSERVE and record.freeze_reason == "data_integrity"
        handle = stack.client.get_workflow_handle(f"demotion/{stack.tenant}/quant/momo")
        # The record lands inside the activity; the workflow counts it once the activity's
        # result is back, which on a loaded machine can be a moment later.
        for _ in range(100):
            status = await handle.query(DemotionWorkflow.status)
            if status.demotions:
                break
            await asyncio.sleep(0.1)
    assert status.demotions == 1 and status.pending == 0
    await keep_history(
        stack.client, f"demotion/{stack.tenant}/quant/momo", "demotion_data_integrity"
    )
    events = await _audit_until(stack, "momo", "ops.data_integrity_event")
    incident = next(e for e in events if e.event_type == "ops.data_integrity_event")
    assert incident.trace_id == "tr-1"
    assert {"kind": "payload_hash", "id": "ab12", "sha256": "ab12"} in incident.details["evidence"]


async def test_duplicate_events_change_nothing_and_warnings_count(stack_factory: Stack) -> None:
    stack = stack_factory
    policy = fast_policy(
        risk_thresholds={"warning_budget": {"max_warnings": 2, "window_seconds": 3600}}
    )
    await stack.seed(policy, {"momo": S.PAPER})
    async with stack.worker(no_evidence_needed):
        await stack.risk("momo", K.CIRCUIT_BREAKER_WARNING, event_id="w1")
        await stack.risk("momo", K.CIRCUIT_BREAKER_WARNING, event_id="w1")  # duplicate
        await stack.risk("momo", K.CIRCUIT_BREAKER_WARNING, event_id="w2")
        handle = stack.client.get_workflow_handle(f"demotion/{stack.tenant}/quant/momo")
        status = await _wait_processed(handle, 2)
        assert len(status.warnings) == 2
        assert await stack.store.list_records(stack.tenant, "quant", "momo") == []
        await stack.risk("momo", K.CIRCUIT_BREAKER_WARNING, event_id="w3")  # over budget
        (record,) = await stack.wait_records("momo", 1)
    assert record.to_stage == S.SHADOW and record.reason_code == "warning_budget_exceeded"
    assert not record.freeze


async def test_demotion_never_raises_and_continue_as_new_keeps_state(stack_factory: Stack) -> None:
    stack = stack_factory
    await stack.seed(fast_policy(), {"momo": S.OBSERVE})
    async with stack.worker(no_evidence_needed):
        await stack.risk("momo", K.KILL_SWITCH_ENABLED, event_id="k0", events_per_run=2)
        handle = stack.client.get_workflow_handle(f"demotion/{stack.tenant}/quant/momo")
        first_run = (await handle.describe()).run_id
        for i in range(1, 5):
            await stack.risk("momo", K.KILL_SWITCH_ENABLED, event_id=f"k{i}", events_per_run=2)
        status = await _wait_processed(handle, 5)
        await stack.risk("momo", K.KILL_SWITCH_ENABLED, event_id="k0")  # seen in an earlier run
        await stack.risk("momo", K.MARKETDATA_STALE, event_id="d1")
        (record,) = await stack.wait_records("momo", 1)
        status = await _wait_processed(handle, 6)
    # OBSERVE is the floor: kill-switch changes nothing; the data-integrity event only freezes.
    assert record.decision == Decision.FREEZE and record.to_stage == S.OBSERVE
    assert status.processed == 6
    assert (await handle.describe()).run_id != first_run  # continued as new, state carried
    await keep_history(stack.client, handle.id, "demotion_after_continue_as_new")
    assert verify_chain(await stack.store.list_records(stack.tenant)).ok


async def test_unfreeze_needs_a_risk_approver(stack_factory: Stack) -> None:
    stack = stack_factory
    await stack.seed(fast_policy(), {"momo": S.PAPER})
    async with stack.worker(no_evidence_needed):
        await stack.risk("momo", K.CIRCUIT_BREAKER_CRITICAL)
        await stack.wait_records("momo", 1)
        await stack.request("momo", S.SHADOW, decision=Decision.UNFREEZE)
        await stack.wait_phase("momo", Phase.AWAITING_APPROVALS)
        try:
            await stack.approve("momo", "carol", Role.OPS_APPROVER)
            raise AssertionError("ops approver must not unfreeze")
        except wf.Refused as exc:
            assert exc.field == "role"
        await stack.approve("momo", "bob", Role.RISK_APPROVER)
        outcome = await stack.outcome("momo")
    assert outcome.phase == Phase.COMMITTED
    await keep_history(stack.client, f"promotion/{stack.tenant}/quant/momo", "promotion_unfreeze")
    doc = await stack.store.get_strategy(stack.tenant, "quant", "momo")
    assert doc is not None and not doc.freeze and doc.lifecycle_stage == S.SHADOW
    records = await stack.store.list_records(stack.tenant, "quant", "momo")
    assert [r.decision for r in records] == [Decision.DEMOTE, Decision.UNFREEZE]
    assert records[-1].approved_by[0].uid == "bob"


async def _audit_until(stack: Stack, strategy_id: str, event_type: str) -> list[Any]:
    """The risk audit event follows the commit in its own activity: wait for it."""
    import asyncio

    for _ in range(300):
        events = await stack.store.list_audit_events(stack.tenant, "quant", strategy_id)
        if event_type in [e.event_type for e in events]:
            return events
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {event_type} audit event")


async def _wait_processed(handle: Any, count: int) -> Any:
    import asyncio

    for _ in range(300):
        status = await handle.query(DemotionWorkflow.status)
        if status.processed >= count:
            return status
        await asyncio.sleep(0.1)
    raise AssertionError(f"demotion workflow processed {status.processed}, wanted {count}")
