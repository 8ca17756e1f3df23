"""Demotions and halts run on the risk queue, with a worker of their own: a risk event is acted
on while nothing at all serves the promotion queue (the worst backlog there can be), and the
promotion it preempts ends without a record once its queue is served again."""

from __future__ import annotations

import asyncio

from temporalio.api.enums.v1 import EventType

from activities.contracts import EvaluateInput
from app import fleet
from governance.fleet_events import HaltTimings
from governance.identity import Principal, TokenKind
from governance.promotion import Phase, demotion_workflow_id
from governance.report import EligibilityReport
from governance.risk_events import RiskEventKind as K
from governance.risk_events import StoredRiskEvent
from governance.stages import Decision
from governance.stages import LifecycleStage as S
from tests.workflows.evidence_fixtures import seed_evidence
from tests.workflows.harness import Stack, fast_policy
from workflows import client as wf
from workflows.queues import risk_task_queue


def no_evidence_needed(inp: EvaluateInput, risk: list[StoredRiskEvent]) -> EligibilityReport:
    raise AssertionError("demotions and halts never read evidence")


async def _cancel_requested(stack: Stack, strategy_id: str) -> bool:
    handle = wf.promotion_handle(stack.client, stack.tenant, "quant", strategy_id)
    history = await handle.fetch_history()
    kinds = {event.event_type for event in history.events}
    return EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED in kinds


async def test_a_demotion_lands_while_the_promotion_queue_is_not_served(
    stack_factory: Stack,
) -> None:
    stack = stack_factory
    await stack.seed(fast_policy(), {"momo": S.SHADOW})
    evaluator = seed_evidence(stack.tmp / "evidence", stack.tenant, {"momo": 0.6})
    await stack.request("momo", S.PAPER)  # started; no worker polls its queue yet
    workers = stack.build(evaluator)
    async with workers.risk:  # only the risk queue is served
        await stack.risk("momo", K.CLOCK_SKEW)
        (record,) = await stack.wait_records("momo", 1)
        assert record.decision == Decision.DEMOTE and record.to_stage == S.OBSERVE
        for _ in range(300):  # the preemption is sent from the demotion, without the promotion
            if await _cancel_requested(stack, "momo"):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the promotion in flight was never asked to cancel")
        described = await stack.client.get_workflow_handle(
            demotion_workflow_id(stack.tenant, "quant", "momo")
        ).describe()
        assert described.task_queue == risk_task_queue(stack.task_queue)
        promotion = wf.promotion_handle(stack.client, stack.tenant, "quant", "momo")
        assert (await promotion.describe()).task_queue == stack.task_queue
    async with workers.promotion:  # the promotion queue is served again: the request ends
        outcome = await stack.outcome("momo")
    assert outcome.phase == Phase.PREEMPTED
    records = await stack.store.list_records(stack.tenant, "quant", "momo")
    assert [r.decision for r in records] == [Decision.DEMOTE]  # nothing promoted after it
    doc = await stack.store.get_strategy(stack.tenant, "quant", "momo")
    assert doc is not None and doc.lifecycle_stage == S.OBSERVE and doc.freeze


async def test_a_halt_completes_on_the_risk_queue_alone(stack_factory: Stack) -> None:
    stack = stack_factory
    await stack.seed(fast_policy(), {"a": S.PAPER, "b": S.SHADOW})
    workers = stack.build(no_evidence_needed)
    async with workers.risk:
        started = await fleet.halt_tenant(
            stack.ports(),
            Principal(tenant_id=stack.tenant, subject="bob", kind=TokenKind.PERSONAL),
            tenant_id=stack.tenant,
            reason="risk queue drill",
        )
        handle = stack.client.get_workflow_handle(started.workflow_id, result_type=HaltTimings)
        timings = await asyncio.wait_for(handle.result(), 60)
        assert (await handle.describe()).task_queue == risk_task_queue(stack.task_queue)
    assert timings.strategies == 2 and timings.records == 2
    for name in ("a", "b"):
        doc = await stack.store.get_strategy(stack.tenant, "quant", name)
        assert doc is not None and doc.lifecycle_stage == S.SHADOW and doc.freeze
