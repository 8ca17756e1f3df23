"""A tenant halt on the real dev server: gates closed at once, the promotion in flight
preempted (nothing committed after the halt), every strategy moved to the posture with its own
record, the timings recorded; then the governed resume, with the bulk unfreeze."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from app import fleet, requests
from app.gate import GateQuery, check_gate
from governance.chain import verify_chain
from governance.fleet_events import HaltTimings, UnfreezeTimings, halted_event
from governance.fleet_halt import (
    AlreadyHalted,
    HaltPolicy,
    ResumeRefused,
    TenantHalted,
    new_halt,
)
from governance.gate import GateMode
from governance.identity import Principal, TokenKind
from governance.promotion import Phase
from governance.roles import Role
from governance.stages import Decision
from governance.stages import LifecycleStage as S
from tests.workflows.evidence_fixtures import seed_evidence
from tests.workflows.harness import DEMO_APPROVERS, Stack, fast_policy, keep_history
from workflows.fleet_halt import FleetHaltInput, FleetHaltWorkflow, fleet_halt_workflow_id

STAGES = {"live1": S.LIVE, "paper1": S.PAPER, "shadow1": S.SHADOW, "obs1": S.OBSERVE}


def person(stack: Stack, name: str) -> Principal:
    return Principal(tenant_id=stack.tenant, subject=name, kind=TokenKind.PERSONAL)


async def gate(stack: Stack, strategy_id: str) -> GateMode:
    query = GateQuery(
        tenant_id=stack.tenant,
        uid="quant",
        strategy_id=strategy_id,
        marketdata_age_ms=5.0,
        agent_state="READY",
        trading_mode="paper",
        broker_host="paper-api.alpaca.markets",
        kill_switch=False,
    )
    decision = await check_gate(stack.ports(), person(stack, "bob"), query)
    return decision.mode


async def test_halt_preempts_records_and_resumes(stack_factory: Stack) -> None:
    stack = stack_factory
    approvers = {**DEMO_APPROVERS, "risky": [Role.RISK_APPROVER]}
    await stack.seed(fast_policy(), {**STAGES, "waiting": S.SHADOW}, approvers)
    evaluator = seed_evidence(stack.tmp / "evidence", stack.tenant, {"waiting": 0.6})
    ports = stack.ports()
    async with stack.worker(evaluator):
        await stack.request("waiting", S.PAPER)
        await stack.wait_phase("waiting", Phase.AWAITING_APPROVALS)
        await stack.approve("waiting", "bob", Role.RISK_APPROVER)
        assert await gate(stack, "paper1") == GateMode.PAPER

        started = await fleet.halt_tenant(
            ports, person(stack, "bob"), tenant_id=stack.tenant, reason="desk incident drill"
        )
        # The gate is closed for every strategy as soon as the call returns.
        for name in [*STAGES, "waiting"]:
            assert await gate(stack, name) == GateMode.NO_EXECUTION
        decision = await check_gate(
            ports,
            person(stack, "bob"),
            GateQuery(tenant_id=stack.tenant, uid="quant", strategy_id="live1"),
        )
        reason = next(r for r in decision.reasons if r.code == "tenant_halt")
        assert "halted by bob" in reason.message and "desk incident drill" in reason.message

        # A second halt is refused, naming the first; a new request is refused too.
        with pytest.raises(AlreadyHalted, match="already halted by bob"):
            await fleet.halt_tenant(
                ports, person(stack, "carol"), tenant_id=stack.tenant, reason="x" * 5
            )
        with pytest.raises(TenantHalted):
            await requests.request_promotion(
                ports,
                person(stack, "quant"),
                tenant_id=stack.tenant,
                uid="quant",
                strategy_id="obs1",
                to_stage=S.SHADOW,
            )

        handle = stack.client.get_workflow_handle(started.workflow_id, result_type=HaltTimings)
        timings = await asyncio.wait_for(handle.result(), 60)
        assert started.workflow_id == fleet_halt_workflow_id(stack.tenant, started.halt.halt_id)
        outcome = await stack.outcome("waiting")
        assert outcome.phase == Phase.PREEMPTED
        # The promotion's last approval after the halt changes nothing: it has ended.
        await keep_history(stack.client, started.workflow_id, "fleet_halt")

    assert timings is not None and timings.strategies == 5 and timings.records == 5
    docs = {d.strategy_id: d for d in await stack.store.list_strategies(stack.tenant)}
    expected = {"live1": S.SHADOW, "paper1": S.SHADOW, "shadow1": S.SHADOW, "obs1": S.OBSERVE}
    for name, stage in {**expected, "waiting": S.SHADOW}.items():
        assert docs[name].lifecycle_stage == stage and docs[name].freeze, name
        records = await stack.store.list_records(stack.tenant, "quant", name)
        assert verify_chain(records).ok
        assert [r.decision for r in records][-1] in (Decision.DEMOTE, Decision.FREEZE)
        assert all(r.decision != Decision.PROMOTE for r in records), name  # nothing promoted
    events = await stack.store.list_audit_events(stack.tenant)
    kinds = [e.event_type for e in events]
    assert kinds.count("tenant.halted") == 1 and kinds[-1] == "tenant.halt_completed"
    completed = events[-1].details
    assert completed["records"] == 5 and completed["gate_closed_seconds"] >= 0

    # The resume: not by the one who halted; two approvals; the last lifts and unfreezes.
    with pytest.raises(ResumeRefused, match="bob halted"):
        await fleet.resume_tenant(ports, person(stack, "bob"), tenant_id=stack.tenant)
    first = await fleet.resume_tenant(
        ports, person(stack, "risky"), tenant_id=stack.tenant, unfreeze=True
    )
    assert not first.step.lifted and first.unfreeze_workflow_id is None
    assert await gate(stack, "paper1") == GateMode.NO_EXECUTION
    done = await fleet.resume_tenant(
        ports, person(stack, "carol"), tenant_id=stack.tenant, unfreeze=True
    )
    assert done.step.lifted and done.unfreeze_workflow_id is not None
    async with stack.worker(evaluator):
        unfrozen = await asyncio.wait_for(
            stack.client.get_workflow_handle(
                done.unfreeze_workflow_id, result_type=UnfreezeTimings
            ).result(),
            60,
        )
        await keep_history(stack.client, done.unfreeze_workflow_id, "fleet_unfreeze")
    assert unfrozen.records == 5 and unfrozen.skipped == 0 and not unfrozen.superseded
    view = await fleet.halt_status(ports, person(stack, "bob"), tenant_id=stack.tenant)
    assert view.unfreeze == unfrozen
    story = await fleet.fleet_story(ports, person(stack, "bob"), tenant_id=stack.tenant)
    assert story[-1].what.startswith("tenant.unfreeze_completed: 5 unfrozen, 0 skipped")
    docs = {d.strategy_id: d for d in await stack.store.list_strategies(stack.tenant)}
    assert not any(d.freeze for d in docs.values())
    assert await gate(stack, "paper1") == GateMode.SIMULATE  # SHADOW now: simulated at most
    for name in docs:
        records = await stack.store.list_records(stack.tenant, "quant", name)
        assert records[-1].decision == Decision.UNFREEZE and verify_chain(records).ok


async def test_small_pages_continue_as_new_and_a_retry_writes_nothing_twice(
    stack_factory: Stack,
) -> None:
    """Pages of 2 and one page per run: the cursor carries the fleet across runs; running the
    same halt's workflow again (a retry of everything) adds no record and no event."""
    stack = stack_factory
    names = {f"s{i}": S.PAPER for i in range(5)}
    await stack.seed(fast_policy(), names)
    halt = new_halt(
        halt_id="h-small",
        tenant_id=stack.tenant,
        by="bob",
        via="api_token",
        reason="paging drill",
        at=datetime.now(UTC),
        policy=HaltPolicy(),
        current=None,
    )
    await stack.store.start_tenant_halt(halt, halted_event(halt))
    inp = FleetHaltInput(
        tenant_id=stack.tenant,
        halt_id=halt.halt_id,
        gate_closed_seconds=0.01,
        page_size=2,
        pages_per_run=1,
    )
    async with stack.worker(seed_evidence(stack.tmp / "e", stack.tenant, {})):
        for attempt in ("first", "again"):
            timings = await stack.client.execute_workflow(
                FleetHaltWorkflow.run,
                inp,
                id=f"{fleet_halt_workflow_id(stack.tenant, halt.halt_id)}/{attempt}",
                task_queue=stack.task_queue,
            )
            assert timings is not None and timings.strategies == 5
            if attempt == "first":
                assert timings.records == 5
                events = await stack.store.list_audit_events(stack.tenant)
    assert timings is not None and timings.records == 5  # as first recorded; nothing new
    assert await stack.store.list_audit_events(stack.tenant) == events
    records = await stack.store.list_records(stack.tenant)
    assert len(records) == 5 and {r.to_stage for r in records} == {S.SHADOW}
