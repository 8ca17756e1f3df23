"""Contract: a file of strategies registers all or nothing, each with its audit event, linked in
the tenant's chain in the file's order; a retry of the same file completes it idempotently."""

from __future__ import annotations

from datetime import timedelta

import pytest

from governance.audit_chain import verify_audit_chain
from governance.errors import RecordConflict
from governance.onboarding import OnboardingRow, batch_registration
from governance.records import AuditEvent, StrategyDoc
from governance.registration import strategy_registration
from governance.stages import LifecycleStage as S
from store.port import GovernanceStore
from tests.store_contract.helpers import NOW, unchained_all

# More rows than one Firestore batch holds (store/firestore_onboard.py ROWS_PER_BATCH).
ROWS = 260


def rows(n: int, prefix: str = "s") -> list[OnboardingRow]:
    stages = list(S)
    return [
        OnboardingRow(
            uid=f"desk{i % 3}",
            strategy_id=f"{prefix}{i}",
            stage=stages[i % len(stages)],
            since=NOW - timedelta(days=1 + i % 5),
        )
        for i in range(n)
    ]


def batch(tenant: str, n: int = ROWS) -> tuple[list[StrategyDoc], list[AuditEvent]]:
    return batch_registration(tenant, rows(n), NOW)


async def chain_ok(store: GovernanceStore, tenant: str) -> list[AuditEvent]:
    events = await store.list_audit_events(tenant)
    result = verify_audit_chain(events, await store.get_audit_head(tenant))
    assert result.ok, result
    return events


async def test_a_file_lands_each_strategy_with_its_event_in_order(
    store: GovernanceStore, tenant: str
) -> None:
    docs, events = batch(tenant)
    assert await store.register_strategies(docs, events) == docs
    listed = await store.list_strategies(tenant)
    assert sorted(listed, key=lambda d: (d.uid, d.strategy_id)) == sorted(
        docs, key=lambda d: (d.uid, d.strategy_id)
    )
    stored = await chain_ok(store, tenant)
    assert unchained_all(stored) == events  # in the file's order
    assert [e.audit_sequence for e in stored] == list(range(1, ROWS + 1))
    assert await store.get_strategy(tenant, "desk1", "s1") == docs[1]


async def test_a_key_already_registered_refuses_the_whole_file(
    store: GovernanceStore, tenant: str
) -> None:
    one, one_event = strategy_registration(tenant, "desk2", "s200", S.PAPER, NOW, NOW)
    await store.register_strategy(one, one_event)
    docs, events = batch(tenant)
    with pytest.raises(RecordConflict) as refused:
        await store.register_strategies(docs, events)
    assert refused.value.field == "rows[201].strategy_id"
    assert [d.strategy_id for d in await store.list_strategies(tenant)] == ["s200"]
    assert unchained_all(await chain_ok(store, tenant)) == [one_event]


async def test_a_key_twice_in_the_file_refuses_it_all(store: GovernanceStore, tenant: str) -> None:
    docs, events = batch(tenant, 5)
    with pytest.raises(RecordConflict) as refused:
        await store.register_strategies([*docs, docs[2]], [*events, events[2]])
    assert refused.value.field == "rows[6].strategy_id"
    assert "row 3" in refused.value.message
    assert await store.list_strategies(tenant) == []
    assert await store.list_audit_events(tenant) == []
    assert await store.get_audit_head(tenant) is None


async def test_an_event_id_taken_elsewhere_refuses_it_all(
    store: GovernanceStore, tenant: str
) -> None:
    docs, events = batch(tenant, 5)
    await store.append_audit_event(events[4].model_copy(update={"details": {"other": True}}))
    with pytest.raises(RecordConflict):
        await store.register_strategies(docs, events)
    assert await store.list_strategies(tenant) == []
    assert len(await chain_ok(store, tenant)) == 1


async def test_the_same_file_again_writes_nothing_new(store: GovernanceStore, tenant: str) -> None:
    docs, events = batch(tenant, 10)
    await store.register_strategies(docs, events)
    # A retry, later (a new `ts`): recognised by the file's digest, not a refusal.
    again_docs, again_events = batch_registration(tenant, rows(10), NOW + timedelta(minutes=5))
    assert await store.register_strategies(again_docs, again_events) == again_docs
    assert unchained_all(await chain_ok(store, tenant)) == events
    # A different file naming one of them is a refusal.
    other_docs, other_events = batch_registration(tenant, rows(11)[1:], NOW)
    with pytest.raises(RecordConflict):
        await store.register_strategies(other_docs, other_events)
    assert len(await store.list_strategies(tenant)) == 10


async def test_a_half_landed_file_is_completed_by_its_retry(
    store: GovernanceStore, tenant: str
) -> None:
    """What a crash between two Firestore batches leaves: the first rows landed, the rest not."""
    docs, events = batch(tenant, 8)
    await store.register_strategies(docs[:3], events[:3])
    await store.register_strategies(docs, events)
    assert len(await store.list_strategies(tenant)) == 8
    assert unchained_all(await chain_ok(store, tenant)) == events
