"""The GovernanceStore contract: every adapter passes the same suite."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from governance.chain import verify_chain
from governance.errors import PreconditionFailed, RecordConflict
from governance.identity import TokenKind, hash_token, new_token_record
from governance.live import issue, token_hash
from governance.policy import default_policy
from governance.records import AuditEvent, PromotionRequest, StrategyDoc
from governance.roles import Role
from governance.stage_change import StageChange
from governance.stages import Decision
from governance.stages import LifecycleStage as S
from store.port import GovernanceStore

NOW = datetime(2026, 11, 25, 15, tzinfo=UTC)


def change(
    doc: StrategyDoc, to: S, decision: Decision = Decision.PROMOTE, **kw: object
) -> StageChange:
    return StageChange(
        tenant_id=doc.tenant_id,
        uid=doc.uid,
        strategy_id=doc.strategy_id,
        record_id=str(uuid.uuid4()),
        audit_event_id=str(uuid.uuid4()),
        decision=decision,
        expected_from_stage=doc.lifecycle_stage,
        expected_last_record_id=doc.last_stage_change_record_id,
        to_stage=to,
        reason_code="contract",
        policy_version="v1",
        requested_by="quant",
        requested_at=NOW,
        effective_at=NOW,
        **kw,  # type: ignore[arg-type]
    )


async def registered(store: GovernanceStore, tenant: str, stage: S = S.OBSERVE) -> StrategyDoc:
    doc = StrategyDoc(tenant_id=tenant, uid="quant", strategy_id="s1", lifecycle_stage=stage)
    await store.register_strategy(doc)
    return doc


async def snapshot(store: GovernanceStore, tenant: str) -> tuple[object, ...]:
    return (
        await store.get_strategy(tenant, "quant", "s1"),
        await store.list_records(tenant),
        await store.list_audit_events(tenant),
        await store.list_requests(tenant),
    )


async def test_policy_versions(store: GovernanceStore, tenant: str) -> None:
    assert await store.get_policy(tenant) is None
    v1, v2 = default_policy("v1"), default_policy("v2")
    await store.put_policy(tenant, v1)
    await store.put_policy(tenant, v2)
    assert (await store.get_policy(tenant)) == v2
    assert [p.policy_version for p in await store.list_policy_versions(tenant)] == ["v1", "v2"]
    await store.put_policy(tenant, v1)  # the same version again is no new version
    changed = v1.model_copy(update={"calendar": "XLON"})
    with pytest.raises(RecordConflict):
        await store.put_policy(tenant, changed)


async def test_registry_directory_requests_reports_status(
    store: GovernanceStore, tenant: str
) -> None:
    doc = await registered(store, tenant)
    with pytest.raises(RecordConflict):
        await store.register_strategy(doc)
    assert await store.list_strategies(tenant) == [doc]
    assert await store.list_strategies(tenant, "nobody") == []
    await store.put_approver(tenant, "bob", [Role.RISK_APPROVER, Role.OPS_APPROVER])
    assert set(await store.get_approver_roles(tenant, "bob") or []) == {
        Role.RISK_APPROVER,
        Role.OPS_APPROVER,
    }
    assert await store.get_approver_roles(tenant, "nobody") is None
    assert list(await store.list_approvers(tenant)) == ["bob"]
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
    assert await store.get_request(tenant, "r1") == request
    assert await store.list_requests(tenant, strategy_id="s1") == [request]
    report = {"verdict": "ELIGIBLE", "metrics_hash": "ab" * 32}
    assert await store.put_evaluation_report(tenant, report) == "ab" * 32
    assert await store.get_evaluation_report(tenant, "ab" * 32) == report
    await store.put_system_status({"is_shadow_mode": True})
    assert (await store.get_system_status())["is_shadow_mode"] is True


async def test_commit_chain_and_idempotent_retry(store: GovernanceStore, tenant: str) -> None:
    doc = await registered(store, tenant)
    first = change(doc, S.SHADOW)
    record = await store.commit_stage_change(first)
    assert await store.commit_stage_change(first) == record  # a retry writes nothing new
    assert len(await store.list_records(tenant)) == 1
    assert len(await store.list_audit_events(tenant)) == 1
    after = await store.get_strategy(tenant, "quant", "s1")
    assert after is not None and after.lifecycle_stage == S.SHADOW
    assert (
        after.execution_mode == "SHADOW_MODE"
        and after.last_stage_change_record_id == record.record_id
    )
    demotion = change(
        after, S.OBSERVE, Decision.DEMOTE, set_freeze=True, freeze_reason="data_integrity"
    )
    second = await store.commit_stage_change(demotion)
    assert second.prev_record_hash == record.record_hash and second.sequence == 2
    final = await store.get_strategy(tenant, "quant", "s1")
    assert final is not None and final.freeze and final.shadow_mode_reason == "contract"
    assert verify_chain(await store.list_records(tenant, "quant", "s1")).ok
    other = first.model_copy(update={"to_stage": S.PAPER, "effective_at": NOW + timedelta(1)})
    with pytest.raises(RecordConflict):
        await store.commit_stage_change(other)
    assert await store.get_record(tenant, record.record_id) == record


@pytest.mark.parametrize(
    "mutate",
    [
        {"expected_from_stage": S.SHADOW},
        {"expected_last_record_id": "someone-else"},
        {"to_stage": S.PAPER},
        {"decision": Decision.DEMOTE},
        {"decision": Decision.UNFREEZE, "to_stage": S.OBSERVE},
    ],
)
async def test_failed_precondition_writes_nothing(
    store: GovernanceStore, tenant: str, mutate: dict
) -> None:
    doc = await registered(store, tenant)
    before = await snapshot(store, tenant)
    with pytest.raises(PreconditionFailed):
        await store.commit_stage_change(change(doc, S.SHADOW).model_copy(update=mutate))
    assert await snapshot(store, tenant) == before


async def test_frozen_strategy_cannot_be_promoted(store: GovernanceStore, tenant: str) -> None:
    doc = await registered(store, tenant, S.SHADOW)
    await store.commit_stage_change(
        change(doc, S.SHADOW, Decision.FREEZE, set_freeze=True, freeze_reason="x")
    )
    frozen = await store.get_strategy(tenant, "quant", "s1")
    assert frozen is not None
    with pytest.raises(PreconditionFailed) as refused:
        await store.commit_stage_change(change(frozen, S.PAPER))
    assert refused.value.field == "freeze"


async def test_concurrent_commits_one_per_chain_position(
    store: GovernanceStore, tenant: str
) -> None:
    doc = await registered(store, tenant)
    racers = [change(doc, S.SHADOW) for _ in range(20)]
    results = await asyncio.gather(
        *(store.commit_stage_change(c) for c in racers), return_exceptions=True
    )
    landed = [r for r in results if not isinstance(r, BaseException)]
    assert len(landed) == 1
    assert all(isinstance(r, PreconditionFailed) for r in results if isinstance(r, BaseException))
    records = await store.list_records(tenant)
    assert len(records) == 1 and len(await store.list_audit_events(tenant)) == 1
    assert verify_chain(records).ok


async def test_audit_events_are_create_only(store: GovernanceStore, tenant: str) -> None:
    event = AuditEvent(event_id="a1", event_type="x", ts=NOW, tenant_id=tenant)
    await store.append_audit_event(event)
    await store.append_audit_event(event)  # the same event again is a no-op
    with pytest.raises(RecordConflict):
        await store.append_audit_event(event.model_copy(update={"event_type": "rewritten"}))
    assert await store.list_audit_events(tenant) == [event]


async def test_tokens(store: GovernanceStore, tenant: str) -> None:
    api = new_token_record(
        token="t0k",
        kind=TokenKind.PERSONAL,
        tenant_id=tenant,
        subject="bob",
        now=NOW,
        ttl_seconds=60,
    )
    await store.put_api_token(api)
    assert await store.get_api_token(hash_token("t0k")) == api
    revoked = await store.revoke_api_token(hash_token("t0k"), NOW)
    assert revoked is not None and revoked.revoked_at == NOW
    live = issue(
        token="c0nfirm", tenant_id=tenant, request_id="r1", user="dave", now=NOW, ttl_seconds=300
    )
    await store.put_confirmation_token(live)
    used = await store.redeem_confirmation_token(tenant, token_hash("c0nfirm"), "r1", "dave", NOW)
    assert used.redeemed_at == NOW
    assert (
        await store.redeem_confirmation_token(tenant, token_hash("c0nfirm"), "r1", "dave", NOW)
        == used
    )
    from governance.live import TokenRefused

    with pytest.raises(TokenRefused):
        await store.redeem_confirmation_token(
            tenant, token_hash("c0nfirm"), "r1", "dave", NOW + timedelta(1)
        )
