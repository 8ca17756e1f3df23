"""Firestore specifics, on the emulator the `firestore_emulator_host` fixture provides."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from google.api_core import exceptions as gexc

from governance.chain import verify_chain
from governance.errors import PreconditionFailed
from governance.records import RequestStatus, StrategyDoc
from governance.stages import Decision
from governance.stages import LifecycleStage as S
from store import paths
from store.firestore import FirestoreStore
from store.firestore_rpc import rpc_for
from tests.store_contract.helpers import change, current, registered, sample_report

PROJECT = "stratgate-specific"


@pytest.fixture
async def store(firestore_emulator_host: str) -> AsyncIterator[FirestoreStore]:
    adapter = FirestoreStore.for_emulator(firestore_emulator_host, PROJECT)
    try:
        yield adapter
    finally:
        await adapter.close()


async def test_records_verify_after_a_round_trip(store: FirestoreStore, tenant: str) -> None:
    doc = await registered(store, tenant)
    await store.commit_stage_change(change(doc, S.SHADOW))
    after = await current(store, doc)
    await store.commit_stage_change(change(after, S.OBSERVE, Decision.DEMOTE))
    records = await store.list_records(tenant, "quant", "s1")
    assert len(records) == 2 and verify_chain(records).ok
    # Read one at a time, too: each verifies against the one before it.
    one_by_one = [await store.get_record(tenant, r.record_id) for r in records]
    assert one_by_one == records


async def test_a_circuit_breaker_shadow_mode_write_is_honoured(
    store: FirestoreStore, tenant: str
) -> None:
    # What the platform's circuit breaker writes, with fields of its own.
    await store.client.document(paths.strategy(tenant, "quant", "cb")).set(
        {
            "tenant_id": tenant,
            "uid": "quant",
            "strategy_id": "cb",
            "lifecycle_stage": "PAPER",
            "execution_mode": "SHADOW_MODE",
            "shadow_mode_reason": "circuit_breaker",
            "other_field": 1,
        }
    )
    doc = await store.get_strategy(tenant, "quant", "cb")
    assert doc is not None and doc.effective_stage() == S.SHADOW
    assert doc.shadow_mode_reason == "circuit_breaker"
    assert [d.strategy_id for d in await store.list_strategies(tenant, "quant")] == ["cb"]


async def test_a_commit_keeps_the_fields_other_services_keep(
    store: FirestoreStore, tenant: str
) -> None:
    doc = await registered(store, tenant)
    ref = store.client.document(paths.strategy(tenant, "quant", "s1"))
    await ref.set({"params": {"lookback": 20}, "status": "paused"}, merge=True)
    await store.commit_stage_change(change(doc, S.SHADOW))
    demote = change(await current(store, doc), S.OBSERVE, Decision.DEMOTE, reason_code="risk")
    await store.commit_stage_change(demote)
    data = (await ref.get()).to_dict()
    assert data is not None
    assert data["params"] == {"lookback": 20} and data["status"] == "paused"
    assert data["lifecycle_stage"] == "OBSERVE" and data["chain_length"] == 2
    assert data["shadow_mode_reason"] == "risk"
    promote = change(await current(store, doc), S.SHADOW)
    await store.commit_stage_change(promote)
    after = await current(store, doc)
    assert after.shadow_mode_reason is None and after.shadow_mode_activated_at is None


async def test_racing_clients_land_one_commit_per_position(
    firestore_emulator_host: str, tenant: str
) -> None:
    stores = [FirestoreStore.for_emulator(firestore_emulator_host, PROJECT) for _ in range(3)]
    try:
        doc = await registered(stores[0], tenant, strategy_id="race")
        racers = [stores[i % 3].commit_stage_change(change(doc, S.SHADOW)) for i in range(10)]
        results = await asyncio.gather(*racers, return_exceptions=True)
        assert sum(not isinstance(r, BaseException) for r in results) == 1
        losers = [r for r in results if isinstance(r, BaseException)]
        assert all(isinstance(r, PreconditionFailed) for r in losers), losers
        records = await stores[1].list_records(tenant, "quant", "race")
        assert len(records) == 1 and verify_chain(records).ok
        assert len(await stores[2].list_audit_events(tenant, "quant", "race")) == 1
        after = await current(stores[2], doc)
        assert after.chain_length == 1 and after.last_stage_change_record_id == records[0].record_id
    finally:
        for s in stores:
            await s.close()


async def test_a_taken_chain_slot_refuses_the_commit_and_writes_nothing(
    store: FirestoreStore, tenant: str
) -> None:
    doc = await registered(store, tenant)
    slot = paths.chain_slot(tenant, "quant", "s1", 1)
    await store.client.document(slot).create({"record_id": "someone-else"})
    with pytest.raises(PreconditionFailed, match="chain position 1") as refused:
        await store.commit_stage_change(change(doc, S.SHADOW))
    assert refused.value.field == "expected_last_record_id"
    assert await store.list_records(tenant) == [] and await store.list_audit_events(tenant) == []
    assert await current(store, doc) == doc


class _FailsOnce:
    """A commit RPC whose first call is refused the way Firestore refuses a stale
    `update_time`."""

    failed = False

    def __init__(self, commit: Any):
        self.commit = commit

    async def __call__(self, writes: Any) -> Any:
        if not _FailsOnce.failed:
            _FailsOnce.failed = True
            raise gexc.FailedPrecondition("the strategy document changed")
        return await self.commit(writes)


async def test_a_strategy_doc_changed_elsewhere_makes_the_commit_start_over(
    store: FirestoreStore, tenant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = await registered(store, tenant)
    rpc = rpc_for(store.client)
    monkeypatch.setattr(_FailsOnce, "failed", False)
    monkeypatch.setattr(rpc, "commit", _FailsOnce(rpc.commit))
    record = await store.commit_stage_change(change(doc, S.SHADOW))
    assert _FailsOnce.failed
    assert await store.list_records(tenant) == [record]


async def test_closing_a_request_that_does_not_exist_creates_none(
    store: FirestoreStore, tenant: str
) -> None:
    doc = await registered(store, tenant)
    await store.commit_stage_change(
        change(doc, S.SHADOW, request_id="r-missing", request_status=RequestStatus.APPROVED)
    )
    assert await store.get_request(tenant, "r-missing") is None
    assert await store.list_requests(tenant) == []


async def test_evaluation_reports_read_back_exactly(store: FirestoreStore, tenant: str) -> None:
    report = sample_report(hit_rate=1.0)  # an integral float must come back a float
    assert await store.put_evaluation_report(tenant, report) == report.metrics_hash
    back = await store.get_evaluation_report(tenant, report.metrics_hash)
    assert back == report and back is not None
    assert back.model_dump_json() == report.model_dump_json()


async def test_strategies_of_every_user_are_listed(store: FirestoreStore, tenant: str) -> None:
    for uid, sid in [("bob", "b1"), ("alice", "a2"), ("alice", "a1")]:
        await store.register_strategy(StrategyDoc(tenant_id=tenant, uid=uid, strategy_id=sid))
    listed = [(d.uid, d.strategy_id) for d in await store.list_strategies(tenant)]
    assert listed == [("alice", "a1"), ("alice", "a2"), ("bob", "b1")]
