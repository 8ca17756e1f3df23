"""Campaign: the Temporal server restarts while requests wait; every one of them resumes.

A dev server of the test's own, on a database file (the shared session server cannot be
restarted), with requests waiting out their stability window (re-evaluated every second, each
evaluation taking a while, so one is in flight when the server goes down) and requests awaiting
approvals. After the restart the window requests evaluate again (a lost evaluation is retried
after its heartbeat timeout, not its 5-minute start-to-close) and the approvals commit. Prints
the time from the restart to the first resumed evaluation. Restarts: 1 in `make test`, 3 with
`STRATGATE_CAMPAIGN=long`.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from activities.contracts import EvaluateInput
from activities.eligibility import EligibilityEvaluator
from cli.embedded import start_temporal, stop_process, wait_for_port
from governance.promotion import Phase
from governance.report import EligibilityReport
from governance.risk_events import StoredRiskEvent
from governance.roles import Role
from governance.stages import LifecycleStage as S
from store.sqlite import SqliteStore
from tests.workflows.evidence_fixtures import seed_evidence
from tests.workflows.harness import Stack, fast_policy

RESTARTS = 3 if os.environ.get("STRATGATE_CAMPAIGN") == "long" else 1
WAITING = [f"wait{i}" for i in range(3)]
APPROVING = [f"appr{i}" for i in range(3)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class SlowEvaluator:
    """The real evaluator, one second slower, noting when each evaluation finished."""

    def __init__(self, inner: EligibilityEvaluator):
        self.inner = inner
        self.finished: list[tuple[float, str]] = []

    def __call__(self, inp: EvaluateInput, risk: list[StoredRiskEvent]) -> EligibilityReport:
        time.sleep(1.0)
        report = self.inner(inp, risk)
        self.finished.append((time.monotonic(), inp.strategy_id))
        return report

    def resumed_after(self, moment: float) -> set[str]:
        return {strategy for at, strategy in self.finished if at > moment}


async def test_every_waiting_request_resumes_after_a_server_restart(tmp_path: Path) -> None:
    home, port = tmp_path / "temporal", free_port()
    server = start_temporal(home, port, free_port())
    store = SqliteStore(tmp_path / "governance.db")
    try:
        await wait_for_port(port, server)
        client = await Client.connect(f"127.0.0.1:{port}", data_converter=pydantic_data_converter)
        stack = Stack(client, store, f"tq-{uuid.uuid4().hex[:8]}", "t-restart", tmp_path)
        policy = fast_policy(
            stability_windows={
                "observe_to_shadow": {"min_sessions": 0},
                "shadow_to_paper": {"min_sessions": 500},  # waits for good
                "paper_to_live": {"min_sessions": 0},
            }
        )
        await stack.seed(
            policy, {**dict.fromkeys(WAITING, S.SHADOW), **dict.fromkeys(APPROVING, S.OBSERVE)}
        )
        edges = dict.fromkeys(WAITING + APPROVING, 0.6)
        evaluator = SlowEvaluator(seed_evidence(tmp_path / "evidence", stack.tenant, edges))
        resumed: list[float] = []
        async with stack.worker(evaluator):
            for name in WAITING:
                await stack.request(name, S.PAPER)
            for name in APPROVING:
                await stack.request(name, S.SHADOW)
            for name in WAITING:
                await stack.wait_phase(name, Phase.WAITING_FOR_WINDOW, timeout=60)
            for name in APPROVING:
                await stack.wait_phase(name, Phase.AWAITING_APPROVALS, timeout=60)
            for _ in range(RESTARTS):
                await asyncio.sleep(1.5)  # an evaluation is in flight now
                stop_process(server)
                server = start_temporal(home, port, free_port())
                restarted = time.monotonic()
                await wait_for_port(port, server)
                deadline = restarted + 120
                while evaluator.resumed_after(restarted) != set(WAITING):
                    assert time.monotonic() < deadline, evaluator.resumed_after(restarted)
                    await asyncio.sleep(0.2)
                resumed.append(
                    min(at for at, _ in evaluator.finished if at > restarted) - restarted
                )
            for name in APPROVING:
                await stack.approve(name, "alice", Role.STRATEGY_REVIEWER)
            outcomes = {name: await stack.outcome(name) for name in APPROVING}
            for name in WAITING:
                status = await stack.status(name)
                assert status.phase == Phase.WAITING_FOR_WINDOW, status
        print(
            f"\nserver restart campaign: {RESTARTS} restart(s) with {len(WAITING)} requests in "
            f"their window and {len(APPROVING)} awaiting approvals; restart -> first resumed "
            f"evaluation {', '.join(f'{r:.1f} s' for r in resumed)}; all resumed"
        )
        assert all(o.phase == Phase.COMMITTED for o in outcomes.values()), outcomes
        for name in APPROVING:
            (record,) = await store.list_records(stack.tenant, "quant", name)
            assert record.to_stage == S.SHADOW
    finally:
        stop_process(server)
        await store.close()
