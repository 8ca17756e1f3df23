"""The Temporal history reads as the spec: each activity, timer and workflow has a summary.

Run on the real dev server, then read back the history the Web UI shows (each event's
user_metadata.summary) and the workflow's own static summary and current details.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from governance.promotion import Phase
from governance.risk_events import RiskEventKind as K
from governance.roles import Role
from governance.stages import LifecycleStage as S
from tests.workflows.evidence_fixtures import seed_evidence
from tests.workflows.harness import Stack, fast_policy
from workflows import client as wf
from workflows.promotion_state import CancelInput


async def summaries(client: Client, workflow_id: str) -> dict[str, list[str]]:
    """Event type name -> the summaries its events carry, in history order."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    found: dict[str, list[str]] = {}
    for event in history.events:
        if event.HasField("user_metadata") and event.user_metadata.HasField("summary"):
            text = client.data_converter.payload_converter.from_payload(
                event.user_metadata.summary, str
            )
            found.setdefault(EventType.Name(event.event_type), []).append(text)
    return found


async def test_a_promotion_history_tells_its_story(stack_factory: Stack) -> None:
    stack = stack_factory
    await stack.seed(fast_policy(), {"edge": S.SHADOW})
    evaluator = seed_evidence(stack.tmp / "evidence", stack.tenant, {"edge": 0.6})
    workflow_id = f"promotion/{stack.tenant}/quant/edge"
    async with stack.worker(evaluator):
        await stack.request("edge", S.PAPER, by="quant")
        await stack.wait_phase("edge", Phase.AWAITING_APPROVALS)
        await stack.approve("edge", "bob", Role.RISK_APPROVER)
        await stack.approve("edge", "carol", Role.OPS_APPROVER)
        assert (await stack.outcome("edge")).phase == Phase.COMMITTED
        found = await summaries(stack.client, workflow_id)
        described = await stack.client.get_workflow_handle(workflow_id).describe()
        static = await described.static_summary()
    activities = found["EVENT_TYPE_ACTIVITY_TASK_SCHEDULED"]
    for expected in (
        "load strategy, policy and breaker: quant/edge",
        "evaluate evidence for promote SHADOW -> PAPER",
        "check approver directory: bob as risk_approver",
        "check approver directory: carol as ops_approver",
        "audit strategy.promotion_approved",
        "save request: FINAL_CHECK",
        "commit promote SHADOW -> PAPER",
        "save request: COMMITTED",
    ):
        assert expected in activities, (expected, activities)
    # Every activity says what it does: none is left as a bare activity type.
    scheduled = [
        e
        for e in (await stack.client.get_workflow_handle(workflow_id).fetch_history()).events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    assert len(scheduled) == len(activities)
    # The approvals wait names who is missing while it waits.
    timers = found["EVENT_TYPE_TIMER_STARTED"]
    assert any(t.startswith("await approvals: missing risk_approver, ops_approver") for t in timers)
    assert any(t.startswith("await approvals: missing ops_approver;") for t in timers), timers
    assert static == f"promote SHADOW -> PAPER for quant/edge ({stack.tenant}), requested by quant"


async def test_a_window_wait_says_how_far_the_window_has_come(stack_factory: Stack) -> None:
    stack = stack_factory
    policy = fast_policy(
        stability_windows={
            "observe_to_shadow": {"min_sessions": 0, "min_evaluations": 0},
            "shadow_to_paper": {"min_sessions": 5},
            "paper_to_live": {"min_sessions": 0},
        }
    )
    await stack.seed(policy, {"young": S.SHADOW}, since=datetime.now(UTC))
    evaluator = seed_evidence(stack.tmp / "evidence", stack.tenant, {"young": 0.6})
    workflow_id = f"promotion/{stack.tenant}/quant/young"
    async with stack.worker(evaluator):
        await stack.request("young", S.PAPER)
        status = await stack.wait_for(
            "young", lambda s: s.phase == Phase.WAITING_FOR_WINDOW and s.report is not None
        )
        assert status.report is not None
        window = status.report.window
        found = await summaries(stack.client, workflow_id)
        timers = found["EVENT_TYPE_TIMER_STARTED"]
        expected = (
            f"wait for stability window: {window.sessions} of 5 sessions"
            if window.sessions_required == 5
            else None
        )
        assert expected is not None, window
        assert any(t.startswith(expected) for t in timers), (expected, timers)
        assert all("re-evaluate in 1s" in t for t in timers), timers
        details = await (
            await stack.client.get_workflow_handle(workflow_id).describe()
        ).static_details()
        assert details is not None and "**requested by** quant" in details
        await wf.cancel(
            stack.client, stack.tenant, "quant", "young", CancelInput(user="quant", reason="test")
        )
        assert (await stack.outcome("young")).phase == Phase.CANCELLED


async def test_a_demotion_history_names_the_events_and_what_they_did(
    stack_factory: Stack,
) -> None:
    stack = stack_factory
    await stack.seed(fast_policy(), {"edge": S.SHADOW})
    evaluator = seed_evidence(stack.tmp / "evidence", stack.tenant, {"edge": 0.6})
    async with stack.worker(evaluator):
        event = await stack.risk("edge", K.DRAWDOWN_BREAKER)
        await stack.applied("edge", event)
        records = await stack.wait_records("edge", 1)
        workflow_id = f"demotion/{stack.tenant}/quant/edge"
        # The notify activity is scheduled after the commit lands: on a busy machine the record
        # can be read before the workflow's next task has scheduled it.
        found = await summaries(stack.client, workflow_id)
        deadline = asyncio.get_running_loop().time() + 60
        while not any(
            a.startswith("notify: ") for a in found.get("EVENT_TYPE_ACTIVITY_TASK_SCHEDULED", [])
        ):
            assert asyncio.get_running_loop().time() < deadline, found
            await asyncio.sleep(0.2)
            found = await summaries(stack.client, workflow_id)
        static = await (
            await stack.client.get_workflow_handle(workflow_id).describe()
        ).static_summary()
    activities = found["EVENT_TYPE_ACTIVITY_TASK_SCHEDULED"]
    assert "apply risk events: drawdown_breaker" in activities, activities
    record = records[-1]
    assert any(
        a.startswith("notify: ") and f"to {record.to_stage.value} (record {record.record_id})" in a
        for a in activities
    ), activities
    assert static == f"risk events and demotions of quant/edge ({stack.tenant})"
