"""The contract of tenant halts and of `commit_stage_changes`, on both adapters."""

from __future__ import annotations

from datetime import timedelta

import pytest

from governance.audit_chain import verify_audit_chain
from governance.chain import verify_chain
from governance.errors import PreconditionFailed
from governance.fleet_changes import halt_change
from governance.fleet_events import halted_event
from governance.fleet_halt import (
    AlreadyHalted,
    HaltPolicy,
    NotHalted,
    ResumeAsk,
    ResumeRefused,
    TenantHalt,
    TenantHalted,
    global_status,
    new_halt,
)
from governance.records import StrategyDoc
from governance.roles import Role
from governance.stages import Decision
from governance.stages import LifecycleStage as S
from store.port import GovernanceStore
from tests.store_contract.helpers import NOW, change, current, registered, snapshot


def a_halt(tenant: str, halt_id: str = "h1", by: str = "bob") -> TenantHalt:
    return new_halt(
        halt_id=halt_id,
        tenant_id=tenant,
        by=by,
        via="api_token",
        reason="desk incident",
        at=NOW,
        policy=HaltPolicy(),
        current=None,
    )


def ask(tenant: str, user: str, roles: list[Role], **kw: object) -> ResumeAsk:
    return ResumeAsk(tenant_id=tenant, user=user, roles=roles, at=NOW, **kw)


async def test_a_halt_is_stored_once_with_its_event(store: GovernanceStore, tenant: str) -> None:
    assert await store.get_tenant_halt(tenant) is None
    halt = a_halt(tenant)
    stored = await store.start_tenant_halt(halt, halted_event(halt))
    assert stored.sequence == 1 and stored.active
    assert await store.get_tenant_halt(tenant) == stored
    before = await store.list_audit_events(tenant)
    assert [e.event_type for e in before] == ["tenant.halted"]
    second = a_halt(tenant, "h2", by="carol")
    with pytest.raises(AlreadyHalted, match="already halted by bob"):
        await store.start_tenant_halt(second, halted_event(second))
    assert await store.list_audit_events(tenant) == before  # nothing written
    assert await store.get_tenant_halt(tenant) == stored
    assert [h.halt_id for h in await store.list_tenant_halts(tenant)] == ["h1"]


async def test_resume_needs_two_other_people_and_lifts(store: GovernanceStore, tenant: str) -> None:
    halt = a_halt(tenant)
    await store.start_tenant_halt(halt, halted_event(halt))
    R, OPS = Role.RISK_APPROVER, Role.OPS_APPROVER
    with pytest.raises(ResumeRefused, match="bob halted"):
        await store.approve_resume(ask(tenant, "bob", [R]))
    one = await store.approve_resume(ask(tenant, "rita", [R], comment="checked"))
    assert not one.lifted
    assert (await store.get_tenant_halt(tenant)) == one.halt
    before = await store.list_audit_events(tenant)
    with pytest.raises(ResumeRefused, match="already approved"):
        await store.approve_resume(ask(tenant, "rita", [R, OPS]))
    assert await store.list_audit_events(tenant) == before
    two = await store.approve_resume(ask(tenant, "olga", [OPS]))
    assert two.lifted and two.halt.resumed_by == "olga"
    stored = await store.get_tenant_halt(tenant)
    assert stored is not None and not stored.active
    approvals = await store.list_resume_approvals(tenant, "h1")
    assert [(a.user, a.role) for a in approvals] == [("rita", R), ("olga", OPS)]
    kinds = [e.event_type for e in await store.list_audit_events(tenant)]
    assert kinds == [
        "tenant.halted",
        "tenant.resume_approved",
        "tenant.resume_approved",
        "tenant.resumed",
    ]
    with pytest.raises(NotHalted):
        await store.approve_resume(ask(tenant, "ray", [R]))
    again = a_halt(tenant, "h2")
    assert (await store.start_tenant_halt(again, halted_event(again))).sequence == 2
    assert verify_audit_chain(
        await store.list_audit_events(tenant), await store.get_audit_head(tenant)
    ).ok


async def test_batch_commit_chains_exact_idempotent_and_skips(
    store: GovernanceStore, tenant: str
) -> None:
    docs = [await registered(store, tenant, s, f"s{i}") for i, s in enumerate([S.LIVE, S.PAPER])]
    docs += [
        await registered(store, tenant, S.SHADOW, "s2"),
        await registered(store, tenant, S.OBSERVE, "s3"),
    ]
    halt = a_halt(tenant)
    await store.start_tenant_halt(halt, halted_event(halt))
    stale = docs[1].model_copy(update={"last_stage_change_record_id": "someone-else"})
    current_docs = [docs[0], stale, docs[2], docs[3]]
    changes = [
        c
        for d in current_docs
        if (c := halt_change(d, halt, policy_version="v1", policy_hash=None, effective_at=NOW))
    ]
    assert len(changes) == 4
    result = await store.commit_stage_changes(changes)
    assert [r.strategy_id for r in result.records] == ["s0", "s2", "s3"]
    assert [(s.strategy_id, s.code) for s in result.skipped] == [("s1", "precondition_failed")]
    for doc, stage in [(docs[0], S.SHADOW), (docs[2], S.SHADOW), (docs[3], S.OBSERVE)]:
        after = await current(store, doc)
        assert after.lifecycle_stage == stage and after.freeze
        assert verify_chain(await store.list_records(tenant, doc.uid, doc.strategy_id)).ok
    assert (await current(store, docs[1])).lifecycle_stage == S.PAPER  # nothing of it written
    events = await store.list_audit_events(tenant)
    assert [e.details.get("promotion_record_id") for e in events[1:]] == [
        r.record_id for r in result.records
    ]
    assert verify_audit_chain(events, await store.get_audit_head(tenant)).ok
    # A retry of the same changes: the same records, nothing written twice.
    retry = await store.commit_stage_changes(changes)
    assert retry.records == result.records
    assert await store.list_audit_events(tenant) == events
    assert len(await store.list_records(tenant)) == 3


async def test_promotions_refused_while_halted(store: GovernanceStore, tenant: str) -> None:
    doc = await registered(store, tenant)
    halt = a_halt(tenant)
    await store.start_tenant_halt(halt, halted_event(halt))
    before = await snapshot(store, tenant)
    with pytest.raises(TenantHalted, match="halted by bob"):
        await store.commit_stage_change(change(doc, S.SHADOW))
    batch = await store.commit_stage_changes([change(doc, S.SHADOW)])
    assert batch.records == [] and batch.skipped[0].code == "tenant_halted"
    assert await snapshot(store, tenant) == before
    # A demotion or a freeze still lands while halted.
    frozen = await store.commit_stage_change(
        change(doc, S.OBSERVE, Decision.FREEZE, set_freeze=True, freeze_reason="r")
    )
    assert frozen.freeze
    with pytest.raises(TenantHalted):  # nor an unfreeze
        await store.commit_stage_change(
            change(await current(store, doc), S.OBSERVE, Decision.UNFREEZE, set_freeze=False)
        )


async def test_the_global_halt_refuses_every_tenant(store: GovernanceStore, tenant: str) -> None:
    doc = await registered(store, tenant)
    status = await store.get_system_status()
    try:
        on = global_status(status, engaged=True, by="ops", reason="exchange outage", at=NOW)
        await store.put_system_status(on)
        with pytest.raises(TenantHalted, match="platform is halted"):
            await store.commit_stage_change(change(doc, S.SHADOW))
    finally:
        off = global_status(on, engaged=False, by="ops", reason="over", at=NOW)
        await store.put_system_status(off)
    record = await store.commit_stage_change(change(doc, S.SHADOW))
    assert record.sequence == 1


async def test_a_fleet_larger_than_one_chunk(store: GovernanceStore, tenant: str) -> None:
    """More changes than one Firestore batch takes: every chain and the audit chain exact."""
    docs = [await registered(store, tenant, S.PAPER, f"s{i:03d}") for i in range(120)]
    halt = a_halt(tenant)
    await store.start_tenant_halt(halt, halted_event(halt))
    later = NOW + timedelta(seconds=1)
    changes = [
        c
        for d in docs
        if (c := halt_change(d, halt, policy_version="v1", policy_hash=None, effective_at=later))
    ]
    result = await store.commit_stage_changes(changes)
    assert len(result.records) == 120 and not result.skipped
    stages = {d.strategy_id: d.lifecycle_stage for d in await store.list_strategies(tenant)}
    assert set(stages.values()) == {S.SHADOW}
    records = await store.list_records(tenant)
    assert len(records) == 120 and all(r.sequence == 1 for r in records)
    events = await store.list_audit_events(tenant)
    assert len(events) == 121
    assert verify_audit_chain(events, await store.get_audit_head(tenant)).ok


async def test_a_batch_names_each_strategy_once(store: GovernanceStore, tenant: str) -> None:
    doc = await registered(store, tenant)
    with pytest.raises(Exception, match="at most once"):
        await store.commit_stage_changes([change(doc, S.SHADOW), change(doc, S.SHADOW)])
    with pytest.raises(PreconditionFailed):
        await store.commit_stage_change(change(doc, S.PAPER))


async def test_strategy_pages_cover_the_tenant_once(store: GovernanceStore, tenant: str) -> None:
    for uid in ("ann", "bo_b"):
        for i in range(4):
            doc = StrategyDoc(tenant_id=tenant, uid=uid, strategy_id=f"s_{i}")
            await store.register_strategy(doc)
    await registered(store, f"{tenant}x")  # another tenant's strategy is never listed
    seen: list[tuple[str, str]] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = await store.list_strategy_page(tenant, cursor, 3)
        pages += 1
        seen += [(d.uid, d.strategy_id) for d in page.strategies]
        assert all(d.tenant_id == tenant for d in page.strategies)
        if page.cursor is None:
            break
        cursor = page.cursor
    assert sorted(seen) == sorted({(u, f"s_{i}") for u in ("ann", "bo_b") for i in range(4)})
    assert len(seen) == 8 and pages >= 3
