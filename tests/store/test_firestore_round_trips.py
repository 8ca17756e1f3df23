"""Round trips per store operation on Firestore, counted at the gRPC channel on the emulator.

A stage change is one read of everything its precondition needs (`BatchGetDocuments`) and one
atomic write (`Commit`); a commit refused by its precondition, or a retry of one that landed,
reads once and writes nothing. Only a commit that lost a race reads more (see
store/firestore_commit.py `_after_refused_commit`).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from governance.errors import PreconditionFailed, RecordConflict
from governance.records import AuditEvent, PromotionRequest, RequestStatus
from governance.stages import Decision
from governance.stages import LifecycleStage as S
from store.firestore import FirestoreStore
from tests.store_contract.helpers import NOW, change, current, registered, snapshot
from tests.support.grpc_count import CountingClient, counting_client

READ, WRITE = "BatchGetDocuments", "Commit"


@pytest.fixture
async def client(firestore_emulator_host: str) -> AsyncIterator[CountingClient]:
    counted = counting_client(firestore_emulator_host, "stratgate-round-trips")
    try:
        yield counted
    finally:
        counted.close()


@pytest.fixture
def store(client: CountingClient) -> FirestoreStore:
    return FirestoreStore(client)


def audit_event(tenant: str, event_id: str | None = None) -> AuditEvent:
    return AuditEvent(
        event_id=event_id or str(uuid.uuid4()),
        event_type="risk.event_received",
        ts=NOW,
        tenant_id=tenant,
        uid="quant",
        strategy_id="s1",
        details={"kind": "drawdown"},
    )


async def test_a_stage_change_is_one_read_and_one_write(
    store: FirestoreStore, client: CountingClient, tenant: str
) -> None:
    doc = await registered(store, tenant)
    client.reset()
    record = await store.commit_stage_change(change(doc, S.SHADOW))
    assert client.rpcs == [READ, WRITE]
    after = await current(store, doc)
    assert after.last_stage_change_record_id == record.record_id  # it did land
    client.reset()
    await store.commit_stage_change(change(after, S.OBSERVE, Decision.DEMOTE))
    assert client.rpcs == [READ, WRITE]  # the chain's second link too


async def test_closing_a_request_and_a_companion_event_add_no_round_trip(
    store: FirestoreStore, client: CountingClient, tenant: str
) -> None:
    doc = await registered(store, tenant)
    await store.put_request(
        PromotionRequest(
            request_id="r1",
            tenant_id=tenant,
            uid="quant",
            strategy_id="s1",
            from_stage=S.OBSERVE,
            to_stage=S.SHADOW,
            requested_at=NOW,
            requested_by="quant",
        )
    )
    companion = audit_event(tenant)
    client.reset()
    await store.commit_stage_change(
        change(
            doc,
            S.SHADOW,
            request_id="r1",
            request_status=RequestStatus.APPROVED,
            companion_event=companion,
        )
    )
    assert client.rpcs == [READ, WRITE]
    closed = await store.get_request(tenant, "r1")
    assert closed is not None and closed.status == RequestStatus.APPROVED
    assert await store.get_audit_event(tenant, companion.event_id) is not None


async def test_a_refused_stage_change_reads_once_and_writes_nothing(
    store: FirestoreStore, client: CountingClient, tenant: str
) -> None:
    doc = await registered(store, tenant)
    await store.commit_stage_change(change(doc, S.SHADOW))
    before = await snapshot(store, tenant)
    client.reset()
    with pytest.raises(PreconditionFailed):
        await store.commit_stage_change(change(doc, S.SHADOW))  # `doc` is stale now
    assert client.rpcs == [READ]
    assert await snapshot(store, tenant) == before


async def test_an_audit_event_id_clash_is_refused_before_any_write(
    store: FirestoreStore, client: CountingClient, tenant: str
) -> None:
    doc = await registered(store, tenant)
    taken = audit_event(tenant)
    await store.append_audit_event(taken)
    client.reset()
    with pytest.raises(RecordConflict):
        await store.commit_stage_change(
            change(doc, S.SHADOW).model_copy(update={"audit_event_id": taken.event_id})
        )
    assert client.rpcs == [READ]


async def test_a_retried_stage_change_that_landed_reads_once_and_writes_nothing(
    store: FirestoreStore, client: CountingClient, tenant: str
) -> None:
    doc = await registered(store, tenant)
    first = change(doc, S.SHADOW)
    landed = await store.commit_stage_change(first)
    before = await snapshot(store, tenant)
    client.reset()
    assert await store.commit_stage_change(first) == landed
    assert client.rpcs == [READ]
    assert await snapshot(store, tenant) == before


async def test_an_audit_append_is_one_read_and_one_write(
    store: FirestoreStore, client: CountingClient, tenant: str
) -> None:
    event = audit_event(tenant)
    client.reset()
    await store.append_audit_event(event)
    assert client.rpcs == [READ, WRITE]
    client.reset()
    await store.append_audit_event(event)  # a retry: already there, nothing written
    assert client.rpcs == [READ]


async def test_a_registration_is_its_index_entry_then_one_read_and_one_write(
    store: FirestoreStore, client: CountingClient, tenant: str
) -> None:
    # The index entry is written on its own first (idempotent), so a strategy that exists is
    # always listed: one round trip more than a stage change.
    client.reset()
    await registered(store, tenant)
    assert client.rpcs == [WRITE, READ, WRITE]
    client.reset()
    with pytest.raises(RecordConflict):
        await registered(store, tenant)
    assert client.rpcs == [WRITE, READ]  # refused on the read: nothing but the index entry
