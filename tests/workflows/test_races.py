"""Preemption races and crashes: whatever interleaving happens, the invariants hold.

The race campaign runs 8 rounds in `make test` and 300 with `STRATGATE_CAMPAIGN=long`; it prints
how each round ended (`pytest -s`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections import Counter

from governance.chain import verify_chain
from governance.promotion import Phase
from governance.records import RequestStatus
from governance.risk_events import RiskEventKind as K
from governance.roles import Role
from governance.stage_change import StageChange
from governance.stages import Decision
from governance.stages import LifecycleStage as S
from store.sqlite import SqliteStore
from tests.workflows.evidence_fixtures import seed_evidence
from tests.workflows.harness import ASSERTION_KEYS, Stack, fast_policy
from worker import build_worker
from workflows import client as wf

ROUNDS = 300 if os.environ.get("STRATGATE_CAMPAIGN") == "long" else 8


async def test_risk_event_racing_the_final_check(stack_factory: Stack) -> None:
    stack = stack_factory
    names = [f"race{i}" for i in range(ROUNDS)]
    await stack.seed(fast_policy(), dict.fromkeys(names, S.SHADOW))
    evaluator = seed_evidence(stack.tmp / "evidence", stack.tenant, dict.fromkeys(names, 0.6))
    outcomes = {}
    async with stack.worker(evaluator):
        for name in names:
            await stack.request(name, S.PAPER)
            await stack.wait_for(name, lambda s: s.phase == Phase.AWAITING_APPROVALS)
            await stack.approve(name, "bob", Role.RISK_APPROVER)
            # The last approval starts the final check; the risk event lands in the middle of it.
            with contextlib.suppress(wf.Refused):
                await asyncio.gather(
                    stack.approve(name, "carol", Role.OPS_APPROVER),
                    stack.risk(name, K.MARKETDATA_STALE),
                )
            outcomes[name] = await stack.outcome(name)
            await stack.wait_records(name, 1)
        await asyncio.sleep(1.0)  # let any straggling demotion land before counting
    for name in names:
        outcome = outcomes[name]
        records = await stack.store.list_records(stack.tenant, "quant", name)
        demotions = [r for r in records if r.decision == Decision.DEMOTE]
        assert len(demotions) == 1, (name, records)
        if outcome.phase == Phase.COMMITTED:  # the promotion's commit won the chain slot
            assert [r.decision for r in records] == [Decision.PROMOTE, Decision.DEMOTE]
        else:
            assert outcome.phase == Phase.PREEMPTED, outcome
            assert [r.decision for r in records] == [Decision.DEMOTE]
        doc = await stack.store.get_strategy(stack.tenant, "quant", name)
        assert doc is not None and doc.lifecycle_stage == records[-1].to_stage == S.OBSERVE
        assert verify_chain(records).ok
        # The request is closed with how it ended, never left pending.
        (request,) = await stack.store.list_requests(stack.tenant, "quant", name)
        assert request.status != RequestStatus.PENDING, (name, request.status)
    ended = Counter(o.phase.value for o in outcomes.values())
    print(f"\nrace campaign: {ROUNDS} rounds, {dict(ended)}, 0 forks, 0 pending requests")
    assert any(o.phase == Phase.PREEMPTED for o in outcomes.values())


class CrashAfterCommit(SqliteStore):
    """A store whose first commit lands and then never reports back, like a worker killed
    between writing and telling Temporal."""

    def __init__(self, path: object) -> None:
        super().__init__(path)  # type: ignore[arg-type]
        self.landed = asyncio.Event()

    async def commit_stage_change(self, change: StageChange):  # type: ignore[no-untyped-def]
        record = await super().commit_stage_change(change)
        if not self.landed.is_set():
            self.landed.set()
            await asyncio.Event().wait()  # hangs until the worker is killed
        return record


async def test_worker_killed_mid_commit_writes_exactly_one_record(stack_factory: Stack) -> None:
    stack = stack_factory
    await stack.seed(fast_policy(), {"edge": S.OBSERVE})
    evaluator = seed_evidence(stack.tmp / "evidence", stack.tenant, {"edge": 0.6})
    crashing = CrashAfterCommit(stack.store.db_path)
    first = build_worker(
        stack.client, crashing, stack.task_queue, evaluator, assertion_keys=ASSERTION_KEYS
    )
    run = asyncio.create_task(first.run())
    await stack.request("edge", S.SHADOW)
    await stack.wait_phase("edge", Phase.AWAITING_APPROVALS)
    approving = asyncio.create_task(stack.approve("edge", "alice", Role.STRATEGY_REVIEWER))
    await asyncio.wait_for(crashing.landed.wait(), 30)
    run.cancel()  # the worker dies with the commit written but not reported
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await run
    await approving
    async with stack.worker(evaluator):  # a new worker picks the retry up
        outcome = await stack.outcome("edge")
    assert outcome.phase == Phase.COMMITTED
    records = await stack.store.list_records(stack.tenant, "quant", "edge")
    assert len(records) == 1 and records[0].record_id == outcome.record_id
    events = await stack.store.list_audit_events(stack.tenant, "quant", "edge")
    assert [e.event_type for e in events].count("strategy.promoted") == 1
    await crashing.close()
