"""The worker end to end on the production store: Firestore (the emulator here)."""

from __future__ import annotations

import uuid
from pathlib import Path

from temporalio.client import Client

from governance.chain import verify_chain
from governance.promotion import Phase
from governance.risk_events import RiskEventKind as K
from governance.roles import Role
from governance.stages import Decision
from governance.stages import LifecycleStage as S
from store.firestore import FirestoreStore
from tests.support.replay_check import assert_records_replay
from tests.workflows.evidence_fixtures import seed_evidence
from tests.workflows.harness import Stack, fast_policy


async def test_promote_and_demote_on_firestore(
    client: Client, firestore_emulator_host: str, tenant: str, tmp_path: Path
) -> None:
    store = FirestoreStore.for_emulator(firestore_emulator_host, "stratgate-workflows")
    stack = Stack(client, store, f"tq-{uuid.uuid4().hex[:12]}", tenant, tmp_path)  # type: ignore[arg-type]
    await stack.seed(fast_policy(), {"edge": S.OBSERVE})
    evaluator = seed_evidence(tmp_path / "evidence", tenant, {"edge": 0.6})
    async with stack.worker(evaluator):
        await stack.request("edge", S.SHADOW)
        await stack.wait_phase("edge", Phase.AWAITING_APPROVALS)
        await stack.approve("edge", "alice", Role.STRATEGY_REVIEWER)
        assert (await stack.outcome("edge")).phase == Phase.COMMITTED
        await stack.risk("edge", K.SCHEMA_DRIFT)
        records = await stack.wait_records("edge", 2)
    assert [r.decision for r in records] == [Decision.PROMOTE, Decision.DEMOTE]
    assert verify_chain(records).ok
    doc = await store.get_strategy(tenant, "quant", "edge")
    assert doc is not None and doc.lifecycle_stage == S.OBSERVE and doc.freeze
    # The promotion replays from what the production store kept (records explain).
    assert await assert_records_replay(store, tenant, tmp_path / "evidence") == 1
    await store.close()
