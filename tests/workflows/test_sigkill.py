"""Campaign: workers SIGKILLed at random moments during promotions and demotions.

Two worker processes (`python worker.py`, as deployed) share one task queue and one SQLite
store; a killer SIGKILLs one of them at random intervals and starts a new one. Meanwhile every
strategy is promoted OBSERVE -> SHADOW with an approval and then hit by a critical risk event.
Afterwards: every workflow completed, each promotion and each demotion recorded exactly once,
each risk event applied exactly once (its own audit entry), every chain verifies, each
stage equals its last record's `to_stage`, and every workflow's whole history replays against
today's code (determinism is checked there, on complete histories). Prints the counts.
6 strategies in `make test`, 40 with `STRATGATE_CAMPAIGN=long`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from temporalio.api.enums.v1 import EventType, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Replayer

from governance.chain import verify_chain
from governance.promotion import Phase, demotion_workflow_id, promotion_workflow_id
from governance.records import RequestStatus
from governance.risk_events import RiskEvent
from governance.risk_events import RiskEventKind as K
from governance.roles import Role
from governance.stages import Decision
from governance.stages import LifecycleStage as S
from tests.workflows.evidence_fixtures import seed_evidence
from tests.workflows.harness import ASSERTION_PUBLIC_KEY, Stack, fast_policy
from worker import WORKFLOWS
from workflows.promotion_state import PromotionStatus
from workflows.queues import risk_task_queue

LONG = os.environ.get("STRATGATE_CAMPAIGN") == "long"
STRATEGIES = [f"s{i}" for i in range(40 if LONG else 6)]
ROOT = Path(__file__).resolve().parents[2]


def start_worker(stack: Stack, evidence: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": stack.client.service_client.config.target_host,
        "STRATGATE_TASK_QUEUE": stack.task_queue,
        "STRATGATE_STORE": "sqlite",
        "STRATGATE_DB": str(stack.store.db_path),
        "STRATGATE_EVIDENCE_DIR": str(evidence),
        "STRATGATE_HOME": str(stack.tmp / "home"),
        "STRATGATE_ASSERTION_PUBLIC_KEYS": ASSERTION_PUBLIC_KEY,
    }
    log = open(stack.tmp / "workers.log", "ab")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [sys.executable, str(ROOT / "worker.py")], env=env, stdout=log, stderr=subprocess.STDOUT
    )


# What the dev server answers a describe with while it is busy (seen under load: CANCELLED).
TRANSIENT = {RPCStatusCode.CANCELLED, RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED}


async def polling(stack: Stack, pid: int, timeout: float = 120.0) -> None:
    """Until the worker process `pid` polls both its task queues (its identity is pid@host)."""
    deadline = asyncio.get_running_loop().time() + timeout
    for queue in (stack.task_queue, risk_task_queue(stack.task_queue)):
        request = DescribeTaskQueueRequest(
            namespace=stack.client.namespace,
            task_queue=TaskQueue(name=queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
        while True:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"worker {pid} never polled {queue}")
            try:
                answer = await stack.client.workflow_service.describe_task_queue(request)
            except RPCError as exc:
                if exc.status not in TRANSIENT:
                    raise
            else:
                if any(p.identity.startswith(f"{pid}@") for p in answer.pollers):
                    break
            await asyncio.sleep(0.2)


async def test_workers_killed_at_random_lose_and_duplicate_nothing(stack_factory: Stack) -> None:
    stack = stack_factory
    await stack.seed(fast_policy(), dict.fromkeys(STRATEGIES, S.OBSERVE))
    evidence = stack.tmp / "evidence"
    seed_evidence(evidence, stack.tenant, dict.fromkeys(STRATEGIES, 0.6))
    workers = [start_worker(stack, evidence) for _ in range(2)]
    rng = random.Random(20261202)
    kills = 0
    stop = asyncio.Event()

    async def killer() -> None:
        nonlocal kills
        while not stop.is_set():
            await asyncio.sleep(rng.uniform(0.5, 2.0))
            victim = rng.randrange(len(workers))
            workers[victim].send_signal(signal.SIGKILL)
            workers[victim].wait()
            kills += 1
            workers[victim] = start_worker(stack, evidence)
            # On a busy machine a worker takes seconds to start: kill again only once its
            # replacement polls, or nothing would ever run between the kills.
            await polling(stack, workers[victim].pid)

    async def journey(name: str) -> RiskEvent:
        await stack.request(name, S.SHADOW)
        await stack.wait_phase(name, Phase.AWAITING_APPROVALS, timeout=180)
        await stack.approve(name, "alice", Role.STRATEGY_REVIEWER)
        try:
            outcome = await asyncio.wait_for(_outcome(stack, name), 240)
        except Exception as exc:  # a workflow that never answered: say what its history holds
            raise AssertionError(f"{name}: {exc}\n{await _history_of(stack, name)}") from exc
        assert outcome.phase == Phase.COMMITTED, (name, outcome)
        return await stack.risk(name, K.MARKETDATA_STALE)

    for w in workers:
        await polling(stack, w.pid)
    killing = asyncio.create_task(killer())
    try:
        events = await asyncio.gather(*(journey(n) for n in STRATEGIES))
        for name, event in zip(STRATEGIES, events, strict=True):
            await stack.applied(name, event, timeout=180)
    finally:
        stop.set()
        await killing
        for w in workers:
            w.send_signal(signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                w.wait(10)

    records = await stack.store.list_records(stack.tenant)
    audit = await stack.store.list_audit_events(stack.tenant)
    replayed = await _replay_every_history(stack)
    print(
        f"\nSIGKILL campaign: {kills} workers killed during {len(STRATEGIES)} promotions and "
        f"{len(STRATEGIES)} demotions; {len(records)} records, {len(audit)} audit events; "
        f"{replayed} histories replay; {len(stack.unanswered)} status queries asked again"
    )
    for failure in stack.unanswered:
        print(f"  asked again: {failure}")
    assert kills >= 2
    per_strategy = Counter((r.strategy_id, r.decision) for r in records)
    for name in STRATEGIES:
        assert per_strategy[(name, Decision.PROMOTE)] == 1, name
        assert per_strategy[(name, Decision.DEMOTE)] == 1, name
        chain = [r for r in records if r.strategy_id == name]
        assert verify_chain(sorted(chain, key=lambda r: r.sequence)).ok
        doc = await stack.store.get_strategy(stack.tenant, "quant", name)
        assert doc is not None and doc.lifecycle_stage == chain[-1].to_stage == S.OBSERVE
    kinds = Counter((e.strategy_id, e.event_type) for e in audit)
    for name in STRATEGIES:
        assert kinds[(name, "strategy.promoted")] == 1 and kinds[(name, "strategy.demoted")] == 1
        assert kinds[(name, "ops.data_integrity_event")] == 1  # the risk event's own entry
    for name in STRATEGIES:
        (request,) = await stack.store.list_requests(stack.tenant, "quant", name)
        assert request.status == RequestStatus.APPROVED


async def _outcome(stack: Stack, name: str) -> PromotionStatus:
    """A worker killed mid-task only delays the result; poll through it. A query answered by a
    worker that rebuilds the workflow from a history whose last task died with its worker may
    fail; `wait_for` asks again and counts it, and whether the workflow code is deterministic
    is decided by replaying every whole history at the end, not by a query."""
    return await stack.wait_for(name, lambda s: s.phase.terminal, timeout=180)


async def _history_of(stack: Stack, name: str) -> str:
    """The promotion's history, an event a line (id, type, and what names a timer, an update or
    an activity), kept beside the test's files too: what a failure needs to be understood."""
    wid = promotion_workflow_id(stack.tenant, "quant", name)
    history = await stack.client.get_workflow_handle(wid).fetch_history()
    (stack.tmp / f"{name}.history.json").write_text(history.to_json())
    lines = []
    for e in history.events:
        kind = EventType.Name(e.event_type).removeprefix("EVENT_TYPE_")
        attrs = e.WhichOneof("attributes")
        what = getattr(e, attrs) if attrs else None
        names = [
            getattr(what, "timer_id", ""),
            what.activity_type.name if what is not None and hasattr(what, "activity_type") else "",
            getattr(what, "protocol_instance_id", ""),
        ]
        lines.append(f"  {e.event_id} {kind} {' '.join(n for n in names if n)}".rstrip())
    return f"history of {wid} ({stack.tmp / (name + '.history.json')}):\n" + "\n".join(lines)


async def _replay_every_history(stack: Stack) -> int:
    """Every promotion and demotion of the campaign, replayed whole against today's code."""
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)
    replayed = 0
    for name in STRATEGIES:
        for workflow_id in (
            promotion_workflow_id(stack.tenant, "quant", name),
            demotion_workflow_id(stack.tenant, "quant", name),
        ):
            history = await stack.client.get_workflow_handle(workflow_id).fetch_history()
            try:
                await replayer.replay_workflow(history)
            except Exception:
                kept = stack.tmp / f"{workflow_id.replace('/', '_')}.json"
                kept.write_text(history.to_json())
                raise AssertionError(f"{workflow_id} does not replay; history in {kept}") from None
            replayed += 1
    return replayed
