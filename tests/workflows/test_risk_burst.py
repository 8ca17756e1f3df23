"""A burst of large risk events cannot switch demotion off.

Campaign: N warnings with maximal details (just under the 16 KiB bound) at one strategy, the
workflow continuing as new every few batches with more pending than it may carry, then one
critical event: it demotes within seconds, and every event of the burst is applied exactly once
(each has its own audit entry). N is 2,000 in `make test`; `STRATGATE_CAMPAIGN=long` runs the
issue's 10,000. The figures are printed (`pytest -s`).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from datetime import UTC, datetime

import pytest
from temporalio.common import WorkflowIDConflictPolicy

from governance.demotion import risk_audit_id
from governance.errors import GovernanceError
from governance.risk_events import RiskEvent
from governance.risk_events import RiskEventKind as K
from governance.stages import Decision
from governance.stages import LifecycleStage as S
from tests.workflows.harness import Stack, fast_policy
from workflows import client as wf
from workflows.demotion import DemotionInput, DemotionStatus, DemotionWorkflow

LONG = os.environ.get("STRATGATE_CAMPAIGN") == "long"
BURST = 10_000 if LONG else 2_000
DETAILS = {"evidence": "x" * (16 * 1024 - 64)}  # as large as the bound allows
SENDERS = 32


async def no_evidence(*_: object) -> None:
    raise AssertionError("no evaluation in this test")


async def status_of(stack: Stack, strategy_id: str) -> DemotionStatus:
    handle = stack.client.get_workflow_handle(f"demotion/{stack.tenant}/quant/{strategy_id}")
    status: DemotionStatus = await handle.query(DemotionWorkflow.status)
    return status


async def test_a_burst_of_large_events_then_a_critical_one_demotes_within_seconds(
    stack_factory: Stack,
) -> None:
    stack = stack_factory
    # Warnings that never exhaust their budget: the burst itself changes nothing.
    policy = fast_policy(
        risk_thresholds={"warning_budget": {"max_warnings": 1_000, "window_seconds": 1}}
    )
    await stack.seed(policy, {"momo": S.PAPER})
    gate = asyncio.Semaphore(SENDERS)
    ids = [f"w{i}" for i in range(BURST)]

    async def send(event_id: str) -> None:
        async with gate:
            await stack.risk(
                "momo",
                K.CIRCUIT_BREAKER_WARNING,
                event_id=event_id,
                details=DETAILS,
                events_per_run=100,
            )

    async with stack.worker(no_evidence):  # type: ignore[arg-type]
        started = time.perf_counter()
        await asyncio.gather(*(send(i) for i in ids))
        sent = time.perf_counter() - started
        critical_at = time.perf_counter()
        critical = await stack.risk("momo", K.MARKETDATA_STALE, events_per_run=100)
        (record,) = await stack.wait_records("momo", 1, timeout=60)
        to_demoted = time.perf_counter() - critical_at
        backlog_at = (await status_of(stack, "momo")).pending
        deadline = time.perf_counter() + 600
        while (status := await status_of(stack, "momo")).processed < BURST + 1:
            assert time.perf_counter() < deadline, status
            await asyncio.sleep(0.5)
        drained = time.perf_counter() - started
        runs = await _runs(stack, "momo")
    print(
        f"\nburst campaign: {BURST} events of {len(DETAILS['evidence']) // 1024} KiB sent in "
        f"{sent:.1f} s; critical event -> demotion committed in {to_demoted:.2f} s with "
        f"{backlog_at} events still pending; all {BURST + 1} applied after {drained:.1f} s "
        f"over {runs} runs"
    )
    assert (record.decision, record.to_stage, record.freeze) == (Decision.DEMOTE, S.OBSERVE, True)
    assert record.reason_code == critical.kind.value
    assert runs > 1  # it continued as new on the way, more pending than it may carry
    assert status.processed == BURST + 1 and status.demotions == 1
    audit = await stack.store.list_audit_events(stack.tenant, "quant", "momo")
    risk_entries = [e for e in audit if e.event_id.startswith("risk-")]
    assert sorted(e.event_id for e in risk_entries) == sorted(
        risk_audit_id(stack.tenant, "quant", "momo", i) for i in [*ids, critical.event_id]
    )  # each applied exactly once: no event lost, none twice
    assert len(await stack.store.list_risk_events(stack.tenant, "quant", "momo")) == BURST + 1


async def _runs(stack: Stack, strategy_id: str) -> int:
    query = f"WorkflowId = 'demotion/{stack.tenant}/quant/{strategy_id}'"
    return len([w async for w in stack.client.list_workflows(query)])


async def test_an_event_signalled_whole_is_stored_then_applied(stack_factory: Stack) -> None:
    """A risk system that talks to Temporal directly sends the event itself (bounded)."""
    stack = stack_factory
    await stack.seed(fast_policy(), {"momo": S.PAPER})
    event = RiskEvent(
        event_id=uuid.uuid4().hex,
        kind=K.DRAWDOWN_BREAKER,
        ts=datetime.now(UTC),
        details={"drawdown": 0.061},
    )
    async with stack.worker(no_evidence):  # type: ignore[arg-type]
        await stack.client.start_workflow(
            DemotionWorkflow.run,
            DemotionInput(tenant_id=stack.tenant, uid="quant", strategy_id="momo"),
            id=f"demotion/{stack.tenant}/quant/momo",
            task_queue=stack.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            start_signal="risk_event",
            start_signal_args=[event],
        )
        (record,) = await stack.wait_records("momo", 1)
        await stack.applied("momo", event)
    stored = await stack.store.get_risk_event(stack.tenant, "quant", "momo", event.event_id)
    assert stored is not None and stored.details == {"drawdown": 0.061}
    assert record.to_stage == S.SHADOW and record.freeze


async def test_a_risk_event_for_an_unknown_strategy_starts_nothing(stack_factory: Stack) -> None:
    stack = stack_factory
    await stack.seed(fast_policy(), {"momo": S.PAPER})
    with pytest.raises(GovernanceError) as refused:
        await wf.send_risk_event(
            stack.client,
            stack.store,
            stack.task_queue,
            tenant_id=stack.tenant,
            uid="quant",
            strategy_id="nosuch",
            event=RiskEvent(event_id="e1", kind=K.DRAWDOWN_BREAKER, ts=datetime.now(UTC)),
        )
    assert refused.value.code == "unknown_strategy" and "nosuch" in refused.value.message
    assert await _runs(stack, "nosuch") == 0
    assert await stack.store.list_risk_events(stack.tenant, "quant", "nosuch") == []
