"""Campaign: workers SIGKILLed at random moments during promotions and demotions.

Two worker processes (`python worker.py`, as deployed) share one task queue and one SQLite
store; a killer SIGKILLs one of them at random intervals and starts a new one. Meanwhile every
strategy is promoted OBSERVE -> SHADOW with an approval and then hit by a critical risk event.
Afterwards: every workflow completed, each promotion and each demotion recorded exactly once,
each risk event applied exactly once (its own audit entry), every chain verifies and each
stage equals its last record's `to_stage`. Prints the counts. 6 strategies in `make test`,
40 with `STRATGATE_CAMPAIGN=long`.
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

from governance.chain import verify_chain
from governance.promotion import Phase
from governance.records import RequestStatus
from governance.risk_events import RiskEvent
from governance.risk_events import RiskEventKind as K
from governance.roles import Role
from governance.stages import Decision
from governance.stages import LifecycleStage as S
from tests.workflows.evidence_fixtures import seed_evidence
from tests.workflows.harness import ASSERTION_PUBLIC_KEY, Stack, fast_policy
from workflows.promotion_state import PromotionStatus

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

    async def journey(name: str) -> RiskEvent:
        await stack.request(name, S.SHADOW)
        await stack.wait_phase(name, Phase.AWAITING_APPROVALS, timeout=180)
        await stack.approve(name, "alice", Role.STRATEGY_REVIEWER)
        outcome = await asyncio.wait_for(_outcome(stack, name), 180)
        assert outcome.phase == Phase.COMMITTED, (name, outcome)
        return await stack.risk(name, K.MARKETDATA_STALE)

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
    print(
        f"\nSIGKILL campaign: {kills} workers killed during {len(STRATEGIES)} promotions and "
        f"{len(STRATEGIES)} demotions; {len(records)} records, {len(audit)} audit events"
    )
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
    # A worker killed mid-task only delays the result; poll through it.
    return await stack.wait_for(name, lambda s: s.phase.terminal, timeout=180)
