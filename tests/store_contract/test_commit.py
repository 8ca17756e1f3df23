"""The contract of `commit_stage_change`, the one transaction behind every stage change:
precondition, chain slot, create-only record and audit event, strategy update, request status."""

from __future__ import annotations

import asyncio
import inspect
from contextlib import suppress
from datetime import timedelta
from typing import Any

import pytest

from governance.chain import verify_chain
from governance.errors import GovernanceError, PreconditionFailed, RecordConflict
from governance.records import ApprovedBy, AuditEvent, PromotionRequest, RequestStatus
from governance.roles import Role
from governance.stages import Decision
from governance.stages import LifecycleStage as S
from store.port import GovernanceStore
from tests.store_contract.helpers import NOW, change, current, registered, snapshot


async def test_promote_demote_freeze_unfreeze(store: GovernanceStore, tenant: str) -> None:
    doc = await registered(store, tenant)
    freeze = {"set_freeze": True, "freeze_reason": "review"}
    integrity = {"set_freeze": True, "freeze_reason": "data_integrity"}
    steps: list[tuple[S, Decision, dict[str, Any], str]] = [
        (S.SHADOW, Decision.PROMOTE, {}, "strategy.promoted"),
        (S.SHADOW, Decision.FREEZE, freeze, "strategy.frozen"),
        (S.SHADOW, Decision.UNFREEZE, {"set_freeze": False}, "strategy.unfrozen"),
        (S.PAPER, Decision.PROMOTE, {"policy_version": "v2"}, "strategy.promoted"),
        (S.OBSERVE, Decision.DEMOTE, integrity, "strategy.demoted"),
    ]
    for i, (to, decision, extra, event_type) in enumerate(steps, start=1):
        before = await current(store, doc)
        c = change(before, to, decision, effective_at=NOW + timedelta(minutes=i), **extra)
        record = await store.commit_stage_change(c)
        assert (record.sequence, record.from_stage, record.to_stage) == (
            i,
            before.lifecycle_stage,
            to,
        )
        assert record.decision == decision and record.record_id == c.record_id
        assert record.prev_record_hash == before.last_record_hash
        assert await store.get_record(tenant, record.record_id) == record
        after = await current(store, doc)
        assert (
            after.lifecycle_stage == to and after.execution_mode == after.expected_execution_mode()
        )
        assert after.last_stage_change_record_id == record.record_id
        assert after.last_stage_change_at == c.effective_at and after.chain_length == i
        assert after.last_record_hash == record.record_hash
        assert after.policy_version == c.policy_version
        assert after.freeze == record.freeze
        event = (await store.list_audit_events(tenant))[-1]
        assert event.event_id == c.audit_event_id and event.event_type == event_type
        assert event.details["promotion_record_id"] == record.record_id
        assert (event.uid, event.strategy_id) == ("quant", "s1") and event.ts == c.effective_at
    final = await current(store, doc)
    assert final.freeze and final.freeze_reason == "data_integrity"
    assert final.execution_mode == "OBSERVE" and final.shadow_mode_reason == "contract"
    records = await store.list_records(tenant, "quant", "s1")
    assert [r.sequence for r in records] == [1, 2, 3, 4, 5] and verify_chain(records).ok
    assert len(await store.list_audit_events(tenant, "quant", "s1")) == 5
    assert await store.get_record(tenant, "no-such-record") is None


async def test_records_are_listed_per_strategy_in_chain_order(
    store: GovernanceStore, tenant: str
) -> None:
    a, b = await registered(store, tenant), await registered(store, tenant, strategy_id="s2")
    for doc in (a, b, a, b, a):
        now = await current(store, doc)
        up = now.lifecycle_stage == S.OBSERVE
        await store.commit_stage_change(
            change(now, S.SHADOW if up else S.OBSERVE, Decision.PROMOTE if up else Decision.DEMOTE)
        )
    s1 = await store.list_records(tenant, "quant", "s1")
    assert [r.sequence for r in s1] == [1, 2, 3] and {r.strategy_id for r in s1} == {"s1"}
    assert [r.sequence for r in await store.list_records(tenant, strategy_id="s2")] == [1, 2]
    assert len(await store.list_records(tenant)) == 5
    assert await store.list_records(tenant, "nobody") == []


async def test_a_commit_closes_its_request(store: GovernanceStore, tenant: str) -> None:
    doc = await registered(store, tenant)
    request = PromotionRequest(
        request_id="r1",
        tenant_id=tenant,
        uid="quant",
        strategy_id="s1",
        from_stage=S.OBSERVE,
        to_stage=S.SHADOW,
        requested_at=NOW,
        requested_by="quant",
    )
    await store.put_request(request)
    approved = [ApprovedBy(role=Role.STRATEGY_REVIEWER, uid="rita", approved_at=NOW)]
    record = await store.commit_stage_change(
        change(
            doc,
            S.SHADOW,
            request_id="r1",
            request_status=RequestStatus.APPROVED,
            approved_by=approved,
        )
    )
    assert record.request_id == "r1" and record.approved_by == approved
    closed = await store.get_request(tenant, "r1")
    assert closed is not None and closed.status == RequestStatus.APPROVED
    assert closed.record_id == record.record_id


@pytest.mark.parametrize(
    "mutate",
    [
        {"expected_from_stage": S.SHADOW},  # the strategy is not where the caller thinks
        {"expected_last_record_id": "someone-else"},  # it moved since it was read
        {"to_stage": S.PAPER},  # a promotion that skips a stage
        {"decision": Decision.DEMOTE},  # a "demotion" upwards
        {"decision": Decision.UNFREEZE, "to_stage": S.OBSERVE},  # not frozen
        {"decision": Decision.FREEZE, "to_stage": S.SHADOW},  # a freeze that moves
        {"strategy_id": "unregistered"},
    ],
)
async def test_a_failed_precondition_writes_nothing(
    store: GovernanceStore, tenant: str, mutate: dict[str, Any]
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
    before = await snapshot(store, tenant)
    bad = change(doc, S.SHADOW, request_id="r1", request_status=RequestStatus.APPROVED)
    with pytest.raises(PreconditionFailed):
        await store.commit_stage_change(bad.model_copy(update=mutate))
    assert await snapshot(store, tenant) == before
    assert await store.get_record(tenant, bad.record_id) is None


async def test_a_frozen_strategy_is_not_promoted_but_is_demoted(
    store: GovernanceStore, tenant: str
) -> None:
    doc = await registered(store, tenant, S.SHADOW)
    await store.commit_stage_change(
        change(doc, S.SHADOW, Decision.FREEZE, set_freeze=True, freeze_reason="x")
    )
    frozen = await current(store, doc)
    before = await snapshot(store, tenant)
    with pytest.raises(PreconditionFailed) as refused:
        await store.commit_stage_change(change(frozen, S.PAPER))
    assert refused.value.field == "freeze" and await snapshot(store, tenant) == before
    demoted = await store.commit_stage_change(change(frozen, S.OBSERVE, Decision.DEMOTE))
    assert demoted.freeze and (await current(store, doc)).freeze  # a freeze never blocks it


async def test_a_retry_returns_the_same_record_and_writes_nothing(
    store: GovernanceStore, tenant: str
) -> None:
    doc = await registered(store, tenant)
    first = change(doc, S.SHADOW)
    record = await store.commit_stage_change(first)
    after_first = await snapshot(store, tenant)
    assert await store.commit_stage_change(first) == record
    assert await snapshot(store, tenant) == after_first
    # A retry that arrives after the chain moved on still finds its own record.
    await store.commit_stage_change(change(await current(store, doc), S.OBSERVE, Decision.DEMOTE))
    moved = await snapshot(store, tenant)
    assert await store.commit_stage_change(first) == record
    assert await snapshot(store, tenant) == moved


async def test_a_different_record_under_an_existing_id_is_refused(
    store: GovernanceStore, tenant: str
) -> None:
    doc = await registered(store, tenant)
    first = change(doc, S.SHADOW)
    record = await store.commit_stage_change(first)
    before = await snapshot(store, tenant)
    for update in (
        {"to_stage": S.PAPER, "expected_from_stage": S.SHADOW},
        {"effective_at": NOW + timedelta(1)},
        {"decision": Decision.FREEZE, "to_stage": S.OBSERVE},
    ):
        with pytest.raises(RecordConflict) as refused:
            await store.commit_stage_change(first.model_copy(update=update))
        assert refused.value.field == "record_id"
    assert await snapshot(store, tenant) == before
    assert await store.get_record(tenant, record.record_id) == record


@pytest.mark.parametrize(
    "update",
    [
        {"reason_code": "rewritten"},
        {"requested_by": "mallory"},
        {"policy_version": "v9"},
        {"approved_by": [ApprovedBy(role=Role.RISK_APPROVER, uid="bob", approved_at=NOW)]},
        {"strategy_id": "s2", "uid": "quant"},
    ],
)
async def test_a_retry_must_be_the_same_change(
    store: GovernanceStore, tenant: str, update: dict[str, Any]
) -> None:
    doc = await registered(store, tenant)
    await registered(store, tenant, strategy_id="s2")
    first = change(doc, S.SHADOW)
    await store.commit_stage_change(first)
    with pytest.raises(RecordConflict):
        await store.commit_stage_change(first.model_copy(update=update))


async def test_a_clashing_audit_event_id_writes_nothing(
    store: GovernanceStore, tenant: str
) -> None:
    doc = await registered(store, tenant)
    taken = AuditEvent(event_id="taken", event_type="x", ts=NOW, tenant_id=tenant)
    await store.append_audit_event(taken)
    before = await snapshot(store, tenant)
    clash = change(doc, S.SHADOW, audit_event_id="taken")
    with pytest.raises(RecordConflict):
        await store.commit_stage_change(clash)
    assert await snapshot(store, tenant) == before  # one transaction: no record either
    assert await store.get_record(tenant, clash.record_id) is None


async def test_concurrent_commits_one_per_chain_position(
    store: GovernanceStore, tenant: str
) -> None:
    doc = await registered(store, tenant)
    racers = [change(doc, S.SHADOW) for _ in range(20)]  # all saw the same chain head
    results = await asyncio.gather(
        *(store.commit_stage_change(c) for c in racers), return_exceptions=True
    )
    landed = [r for r in results if not isinstance(r, BaseException)]
    assert len(landed) == 1
    assert all(isinstance(r, PreconditionFailed) for r in results if isinstance(r, BaseException))
    records = await store.list_records(tenant)
    assert records == landed and len(await store.list_audit_events(tenant)) == 1
    assert (await current(store, doc)).last_stage_change_record_id == landed[0].record_id
    assert verify_chain(records).ok


async def test_racing_writers_fill_each_chain_position_once(
    store: GovernanceStore, tenant: str
) -> None:
    doc = await registered(store, tenant)
    target = 12

    async def writer() -> int:
        wins = 0
        while True:
            now = await current(store, doc)
            if now.chain_length >= target:
                return wins
            up = now.lifecycle_stage == S.OBSERVE
            to, decision = (S.SHADOW, Decision.PROMOTE) if up else (S.OBSERVE, Decision.DEMOTE)
            try:
                await store.commit_stage_change(change(now, to, decision))
                wins += 1
            except PreconditionFailed:
                continue  # another writer took this position: read again

    wins = await asyncio.gather(*(writer() for _ in range(6)))
    records = await store.list_records(tenant)
    assert sum(wins) == len(records) == target
    assert [r.sequence for r in records] == list(range(1, target + 1))
    assert len(await store.list_audit_events(tenant)) == target
    assert verify_chain(records).ok


def test_the_port_has_no_way_to_change_a_record_or_an_audit_event() -> None:
    writers = [
        name
        for name, _ in inspect.getmembers(GovernanceStore, inspect.isfunction)
        if ("record" in name or "audit" in name)
        and name.startswith(("update", "delete", "put", "set", "remove", "replace", "edit"))
    ]
    assert writers == []


async def test_no_operation_rewrites_records_or_audit_events(
    store: GovernanceStore, tenant: str
) -> None:
    doc = await registered(store, tenant)
    first = change(doc, S.SHADOW)
    await store.commit_stage_change(first)
    history = (await store.list_records(tenant), await store.list_audit_events(tenant))
    event = history[1][0]
    attempts: list[Any] = [
        store.commit_stage_change(first.model_copy(update={"effective_at": NOW + timedelta(1)})),
        store.commit_stage_change(first),  # a retry: returns, writes nothing
        store.append_audit_event(event.model_copy(update={"details": {"rewritten": True}})),
        store.append_audit_event(event),
        store.register_strategy(doc),
        store.commit_stage_change(change(doc, S.SHADOW)),  # stale: refused
    ]
    for attempt in attempts:
        with suppress(GovernanceError):  # refusals are fine; a rewrite is not
            await attempt
    assert (await store.list_records(tenant), await store.list_audit_events(tenant)) == history
