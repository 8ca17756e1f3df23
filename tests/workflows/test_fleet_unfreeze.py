"""The resume's bulk unfreeze on the real dev server: paged with continue-as-new, a retry that
writes nothing twice, a newer halt that supersedes it, a lift whose workflow never started
(recovered by the next resume call), and a halt still active (refused, nothing written)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.client import WorkflowFailureError

from app import fleet
from governance.fleet_changes import freeze_marker, halt_changes
from governance.fleet_events import UnfreezeTimings, halted_event
from governance.fleet_halt import HaltPolicy, NotHalted, ResumeAsk, TenantHalt, new_halt
from governance.gate import GateMode
from governance.identity import Principal, TokenKind
from governance.records import StrategyDoc
from governance.roles import Role
from governance.stages import Decision, execution_mode_for
from governance.stages import LifecycleStage as S
from tests.workflows.evidence_fixtures import seed_evidence
from tests.workflows.harness import Stack, fast_policy
from tests.workflows.test_fleet_halt import gate
from workflows.fleet_unfreeze import (
    FleetUnfreezeInput,
    FleetUnfreezeWorkflow,
    fleet_unfreeze_workflow_id,
)

NAMES = {f"s{i}": S.PAPER for i in range(5)}
APPROVERS = {
    "bob": [Role.RISK_APPROVER],
    "rita": [Role.RISK_APPROVER],
    "olga": [Role.OPS_APPROVER],
}


async def halted(stack: Stack, halt_id: str) -> TenantHalt:
    """A halt stored and on record (every strategy demoted to SHADOW and frozen by it)."""
    halt = new_halt(
        halt_id=halt_id,
        tenant_id=stack.tenant,
        by="bob",
        via="api_token",
        reason="unfreeze drill",
        at=datetime.now(UTC),
        policy=HaltPolicy(),
        current=await stack.store.get_tenant_halt(stack.tenant),
    )
    halt = await stack.store.start_tenant_halt(halt, halted_event(halt))
    docs = await stack.store.list_strategies(stack.tenant)
    changes = halt_changes(docs, halt, None, datetime.now(UTC))
    await stack.store.commit_stage_changes(changes)
    return halt


async def lift(stack: Stack, unfreeze: bool = True) -> TenantHalt:
    """Both approvals straight through the store: what a resume call did before it died."""
    step = None
    for user in ("rita", "olga"):
        ask = ResumeAsk(
            tenant_id=stack.tenant,
            user=user,
            roles=APPROVERS[user],
            at=datetime.now(UTC),
            unfreeze=unfreeze,
        )
        step = await stack.store.approve_resume(ask)
    assert step is not None and step.lifted
    return step.halt


def frozen_by(stack_docs: list[StrategyDoc], halt: TenantHalt) -> int:
    return sum(1 for d in stack_docs if d.freeze and d.freeze_reason == freeze_marker(halt.halt_id))


async def test_small_pages_continue_as_new_and_a_retry_writes_nothing_twice(
    stack_factory: Stack,
) -> None:
    stack = stack_factory
    await stack.seed(fast_policy(), NAMES, APPROVERS)
    # Frozen by a cause of its own before the halt: the resume's unfreeze leaves it so.
    await stack.store.register_strategy(
        StrategyDoc(
            tenant_id=stack.tenant,
            uid="quant",
            strategy_id="own",
            lifecycle_stage=S.SHADOW,
            execution_mode=execution_mode_for(S.SHADOW),
            last_stage_change_at=datetime.now(UTC) - timedelta(days=60),
            freeze=True,
            freeze_reason="circuit_breaker: vix_guard_critical",
        )
    )
    halt = await halted(stack, "h-unfreeze")
    await lift(stack)
    inp = FleetUnfreezeInput(
        tenant_id=stack.tenant, halt_id=halt.halt_id, page_size=2, pages_per_run=1
    )
    async with stack.worker(seed_evidence(stack.tmp / "e", stack.tenant, {})):
        results = []
        for attempt in ("first", "again"):
            results.append(
                await stack.client.execute_workflow(
                    FleetUnfreezeWorkflow.run,
                    inp,
                    id=f"{fleet_unfreeze_workflow_id(stack.tenant, halt.halt_id)}/{attempt}",
                    task_queue=stack.task_queue,
                )
            )
            if attempt == "first":
                events = await stack.store.list_audit_events(stack.tenant)
                records = await stack.store.list_records(stack.tenant)
    first, again = results
    assert first.records == 5 and first.skipped == 0 and not first.superseded
    assert again == first  # the figures first recorded: nothing new was written
    assert await stack.store.list_audit_events(stack.tenant) == events
    assert await stack.store.list_records(stack.tenant) == records
    unfreezes = [r for r in records if r.decision == Decision.UNFREEZE]
    assert len(unfreezes) == 5 and len({r.record_id for r in unfreezes}) == 5
    docs_after = {d.strategy_id: d for d in await stack.store.list_strategies(stack.tenant)}
    assert [n for n, d in docs_after.items() if d.freeze] == ["own"]
    assert docs_after["own"].freeze_reason == "circuit_breaker: vix_guard_critical"
    kinds = [e.event_type for e in events]
    assert kinds.count("tenant.unfreeze_completed") == 1


async def test_a_newer_halt_supersedes_the_unfreeze(stack_factory: Stack) -> None:
    stack = stack_factory
    await stack.seed(fast_policy(), NAMES, APPROVERS)
    first = await halted(stack, "h-old")
    await lift(stack)
    await halted(stack, "h-new")  # halted again before the old halt's unfreeze ran
    async with stack.worker(seed_evidence(stack.tmp / "e", stack.tenant, {})):
        timings = await stack.client.execute_workflow(
            FleetUnfreezeWorkflow.run,
            FleetUnfreezeInput(tenant_id=stack.tenant, halt_id=first.halt_id),
            id=fleet_unfreeze_workflow_id(stack.tenant, first.halt_id),
            task_queue=stack.task_queue,
        )
    assert timings.superseded and timings.records == 0
    docs = await stack.store.list_strategies(stack.tenant)
    assert all(d.freeze for d in docs) and frozen_by(docs, first) == 5
    assert not [
        r for r in await stack.store.list_records(stack.tenant) if r.decision == Decision.UNFREEZE
    ]
    assert await gate(stack, "s0") == GateMode.NO_EXECUTION


async def test_a_lift_whose_unfreeze_never_started_is_recovered(stack_factory: Stack) -> None:
    stack = stack_factory
    await stack.seed(fast_policy(), NAMES, {**APPROVERS, "carol": [Role.OPS_APPROVER]})
    halt = await halted(stack, "h-lost")
    await lift(stack)  # the caller died here: lifted, no workflow started
    ports = stack.ports()
    carol = Principal(tenant_id=stack.tenant, subject="carol", kind=TokenKind.PERSONAL)
    with pytest.raises(NotHalted):
        await fleet.resume_tenant(ports, carol, tenant_id=stack.tenant, unfreeze=True)
    handle = stack.client.get_workflow_handle(
        fleet_unfreeze_workflow_id(stack.tenant, halt.halt_id), result_type=UnfreezeTimings
    )
    async with stack.worker(seed_evidence(stack.tmp / "e", stack.tenant, {})):
        timings = await asyncio.wait_for(handle.result(), 60)
    assert timings.records == 5 and not timings.superseded
    assert timings.last_record_seconds < timedelta(minutes=5).total_seconds()
    assert not any(d.freeze for d in await stack.store.list_strategies(stack.tenant))
    # Done: a further call starts nothing (the completed event is there).
    with pytest.raises(NotHalted):
        await fleet.resume_tenant(ports, carol, tenant_id=stack.tenant, unfreeze=True)
    view = await fleet.halt_status(ports, carol, tenant_id=stack.tenant)
    assert view.unfreeze == timings


async def test_an_active_halt_is_not_unfrozen(stack_factory: Stack) -> None:
    stack = stack_factory
    await stack.seed(fast_policy(), NAMES, APPROVERS)
    halt = await halted(stack, "h-active")
    before = await stack.store.list_audit_events(stack.tenant)
    async with stack.worker(seed_evidence(stack.tmp / "e", stack.tenant, {})):
        with pytest.raises(WorkflowFailureError):
            await stack.client.execute_workflow(
                FleetUnfreezeWorkflow.run,
                FleetUnfreezeInput(tenant_id=stack.tenant, halt_id=halt.halt_id),
                id=fleet_unfreeze_workflow_id(stack.tenant, halt.halt_id),
                task_queue=stack.task_queue,
            )
    assert await stack.store.list_audit_events(stack.tenant) == before
    assert all(d.freeze for d in await stack.store.list_strategies(stack.tenant))
