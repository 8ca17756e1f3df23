"""Nothing undoes a breaker or a risk event, on a real Temporal server and a real SQLite store."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

import pytest

from governance.breaker import PLATFORM_BREAKER
from governance.errors import GovernanceError
from governance.promotion import Phase
from governance.records import RequestStatus
from governance.report import Verdict
from governance.risk_events import RiskEventKind as K
from governance.roles import Role
from governance.stages import Decision, Transition
from governance.stages import LifecycleStage as S
from store import paths
from tests.workflows.evidence_fixtures import seed_evidence
from tests.workflows.harness import Stack, fast_policy
from tests.workflows.test_live import confirm


def breaker_writes_shadow_mode(stack: Stack, strategy_id: str, reason: str) -> None:
    """What a platform circuit breaker does (spec section 6): a direct write on the doc, from
    another process's connection, without touching `lifecycle_stage`."""
    path = paths.strategy(stack.tenant, "quant", strategy_id)
    with sqlite3.connect(stack.store.db_path) as conn:
        (data,) = conn.execute("SELECT data FROM documents WHERE path = ?", (path,)).fetchone()
        doc = json.loads(data)
        doc |= {
            "execution_mode": "SHADOW_MODE",
            "shadow_mode_reason": reason,
            "shadow_mode_activated_at": datetime.now(UTC).isoformat(),
        }
        conn.execute("UPDATE documents SET data = ? WHERE path = ?", (json.dumps(doc), path))


async def test_a_breaker_refuses_the_request_naming_execution_mode_and_is_recorded(
    stack_factory: Stack,
) -> None:
    stack = stack_factory
    await stack.seed(fast_policy(), {"edge": S.PAPER})
    breaker_writes_shadow_mode(stack, "edge", "vix_guard_critical")
    evaluator = seed_evidence(stack.tmp / "evidence", stack.tenant, {"edge": 0.6})
    async with stack.worker(evaluator):
        with pytest.raises(GovernanceError) as refused:
            await stack.request("edge", S.LIVE)
    assert refused.value.field == "execution_mode" and "vix_guard_critical" in str(refused.value)
    (record,) = await stack.store.list_records(stack.tenant, "quant", "edge")
    assert (record.decision, record.from_stage, record.to_stage) == (
        Decision.DEMOTE,
        S.PAPER,
        S.SHADOW,
    )
    assert record.reason_code == "vix_guard_critical" and record.requested_by == PLATFORM_BREAKER
    assert record.freeze and record.freeze_reason == "circuit_breaker: vix_guard_critical"
    doc = await stack.store.get_strategy(stack.tenant, "quant", "edge")
    assert doc is not None and doc.lifecycle_stage == S.SHADOW and not doc.breaker_active()
    assert doc.shadow_mode_reason == "vix_guard_critical"  # kept: only a promotion clears it
    assert await stack.store.list_requests(stack.tenant, "quant", "edge") == []


async def test_a_breaker_landing_while_a_live_request_is_in_flight_preempts_it(
    stack_factory: Stack,
) -> None:
    stack = stack_factory
    await stack.seed(fast_policy(), {"edge": S.PAPER})
    evaluator = seed_evidence(stack.tmp / "evidence", stack.tenant, {"edge": 0.6})
    async with stack.worker(evaluator):
        request = await stack.request("edge", S.LIVE)
        await stack.wait_phase("edge", Phase.AWAITING_APPROVALS)
        await stack.approve("edge", "bob", Role.RISK_APPROVER)
        await stack.approve("edge", "carol", Role.OPS_APPROVER)
        await stack.approve(
            "edge",
            "dave",
            Role.FINAL_AUTHORIZER,
            token=await confirm(stack, "dave", request.request_id),
        )
        breaker_writes_shadow_mode(stack, "edge", "platform_drawdown")
        # The last approval completes the set; the final check finds the breaker.
        await stack.approve(
            "edge",
            "erin",
            Role.FINAL_AUTHORIZER,
            token=await confirm(stack, "erin", request.request_id),
        )
        outcome = await stack.outcome("edge")
    assert outcome.phase == Phase.PREEMPTED, outcome
    records = await stack.store.list_records(stack.tenant, "quant", "edge")
    assert [(r.decision, r.to_stage, r.reason_code) for r in records] == [
        (Decision.DEMOTE, S.SHADOW, "platform_drawdown")
    ]
    doc = await stack.store.get_strategy(stack.tenant, "quant", "edge")
    assert doc is not None and doc.lifecycle_stage == S.SHADOW and doc.freeze
    (stored,) = await stack.store.list_requests(stack.tenant, "quant", "edge")
    assert stored.status == RequestStatus.PREEMPTED


async def test_a_kill_switch_at_shadow_stops_a_shadow_to_paper_request(
    stack_factory: Stack,
) -> None:
    """The event lowers nothing (SHADOW is already non-executing) but forbids PAPER."""
    stack = stack_factory
    await stack.seed(fast_policy(), {"edge": S.SHADOW})
    evaluator = seed_evidence(stack.tmp / "evidence", stack.tenant, {"edge": 0.6})
    async with stack.worker(evaluator):
        await stack.request("edge", S.PAPER)
        await stack.wait_phase("edge", Phase.AWAITING_APPROVALS)
        await stack.approve("edge", "bob", Role.RISK_APPROVER)
        await stack.risk("edge", K.KILL_SWITCH_ENABLED)
        outcome = await stack.outcome("edge")
    assert outcome.phase == Phase.PREEMPTED, outcome
    assert outcome.status_reason is not None
    assert "(kill_switch_enabled) allows nothing above SHADOW" in outcome.status_reason
    assert await stack.store.list_records(stack.tenant, "quant", "edge") == []
    doc = await stack.store.get_strategy(stack.tenant, "quant", "edge")
    assert doc is not None and doc.lifecycle_stage == S.SHADOW
    (stored,) = await stack.store.list_requests(stack.tenant, "quant", "edge")
    assert stored.status == RequestStatus.PREEMPTED


async def test_a_critical_event_from_a_risk_system_restarts_the_window(
    stack_factory: Stack,
) -> None:
    stack = stack_factory
    policy = fast_policy(
        stability_windows={
            "observe_to_shadow": {"min_sessions": 0},
            "shadow_to_paper": {"min_sessions": 1},
            "paper_to_live": {"min_sessions": 0},
        }
    )
    await stack.seed(policy, {"hit": S.SHADOW, "calm": S.SHADOW})
    evaluator = seed_evidence(stack.tmp / "evidence", stack.tenant, {"hit": 0.6, "calm": 0.6})
    async with stack.worker(evaluator):
        # Critical, yet lowers nothing at SHADOW: only the window can show it happened.
        event = await stack.risk("hit", K.CONCENTRATION_VIOLATION, severity="critical")
        await stack.applied("hit", event)
        await stack.request("hit", S.PAPER)
        await stack.request("calm", S.PAPER)
        # The phase is set before its first evaluation lands: wait for the report too.
        hit = await stack.wait_for(
            "hit", lambda s: s.phase == Phase.WAITING_FOR_WINDOW and s.report is not None
        )
        calm = await stack.wait_phase("calm", Phase.AWAITING_APPROVALS)
    assert hit.report is not None and hit.report.verdict == Verdict.WAITING
    assert hit.report.window.restarted_by == f"{event.event_id} (concentration_violation)"
    assert hit.report.window.sessions == 0
    assert "sessions 0/1" in " ".join(hit.report.reasons)
    assert calm.report is not None and calm.report.verdict == Verdict.ELIGIBLE
    assert calm.report.window.restarted_by is None
    assert any(e.kind == "risk_history" for e in hit.report.evidence)


async def test_a_non_production_tenant_auto_approves_where_its_policy_says(
    stack_factory: Stack,
) -> None:
    stack = stack_factory
    policy = fast_policy(production=False)
    assert policy.auto_approves(Transition.OBSERVE_TO_SHADOW)
    await stack.seed(policy, {"edge": S.OBSERVE})
    evaluator = seed_evidence(stack.tmp / "evidence", stack.tenant, {"edge": 0.6})
    async with stack.worker(evaluator):
        await stack.request("edge", S.SHADOW)
        outcome = await stack.outcome("edge")
    assert outcome.phase == Phase.COMMITTED, outcome
    (record,) = await stack.store.list_records(stack.tenant, "quant", "edge")
    assert [(a.uid, a.role) for a in record.approved_by] == [
        ("auto-approve.1", Role.STRATEGY_REVIEWER)
    ]
