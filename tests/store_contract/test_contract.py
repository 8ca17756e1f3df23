"""The GovernanceStore contract, every operation but the commit (test_commit.py): each adapter
passes the same suite. Tests use their own tenant, so adapters may share one database."""

from __future__ import annotations

from datetime import timedelta

import pytest

from governance.audit_chain import unchained
from governance.errors import RecordConflict
from governance.identity import ApiToken, TokenKind, hash_token, new_token_record
from governance.live import TokenRefused, issue
from governance.policy import default_policy
from governance.policy_chain import computed_policy_hash, unstamped, verify_policy_chain
from governance.records import AuditEvent, PromotionRequest, RequestStatus, StrategyDoc
from governance.registration import strategy_registration
from governance.risk_events import RiskEventKind, StoredRiskEvent
from governance.roles import Role
from governance.stages import LifecycleStage as S
from governance.token_events import token_issued, token_revoked
from store.port import GovernanceStore
from tests.store_contract.helpers import NOW, change, registered, sample_report, unchained_all


async def test_policy_versions(store: GovernanceStore, tenant: str) -> None:
    assert await store.get_policy(tenant) is None
    assert await store.list_policy_versions(tenant) == []
    v1, v2 = default_policy("v1"), default_policy("v2")
    s1 = await store.put_policy(tenant, v1)
    # Stored as the first link of the tenant's policy chain, otherwise exactly as given.
    assert s1.policy_hash == computed_policy_hash(s1) and s1.prev_policy_hash is None
    assert unstamped(s1) == unstamped(v1)
    assert await store.get_policy(tenant) == s1
    s2 = await store.put_policy(tenant, v2)
    assert s2.prev_policy_hash == s1.policy_hash
    assert await store.get_policy(tenant) == s2
    assert [p.policy_version for p in await store.list_policy_versions(tenant)] == ["v1", "v2"]
    # The same document again: current, but no new version
    assert await store.put_policy(tenant, v1) == s1
    assert await store.get_policy(tenant) == s1
    assert len(await store.list_policy_versions(tenant)) == 2
    with pytest.raises(RecordConflict) as refused:
        await store.put_policy(tenant, v1.model_copy(update={"calendar": "XLON"}))
    assert refused.value.field == "policy_version"
    assert await store.list_policy_versions(tenant) == [s1, s2]  # a version is never rewritten
    assert verify_policy_chain([s1, s2], s1).ok
    assert await store.get_policy(f"{tenant}-other") is None


async def test_strategy_registry(store: GovernanceStore, tenant: str) -> None:
    doc = await registered(store, tenant)
    with pytest.raises(RecordConflict) as twice:
        await store.register_strategy(doc.model_copy(update={"lifecycle_stage": S.PAPER}))
    assert twice.value.field == "strategy_id"
    assert await store.get_strategy(tenant, "quant", "s1") == doc  # unchanged by the refusal
    assert await store.get_strategy(tenant, "quant", "nope") is None
    other = StrategyDoc(tenant_id=tenant, uid="ada", strategy_id="s1", lifecycle_stage=S.PAPER)
    await store.register_strategy(other)
    second = await registered(store, tenant, S.SHADOW, "s2")
    everything = await store.list_strategies(tenant)
    assert sorted(everything, key=lambda d: (d.uid, d.strategy_id)) == [other, doc, second]
    assert sorted(await store.list_strategies(tenant, "quant"), key=lambda d: d.strategy_id) == [
        doc,
        second,
    ]
    assert await store.list_strategies(tenant, "nobody") == []


async def test_registration_writes_document_and_event_together_or_neither(
    store: GovernanceStore, tenant: str
) -> None:
    entered = NOW - timedelta(days=3)
    doc, event = strategy_registration(tenant, "quant", "reg", S.SHADOW, entered, NOW)
    assert await store.register_strategy(doc, event) == doc
    assert await store.get_strategy(tenant, "quant", "reg") == doc
    assert unchained_all(await store.list_audit_events(tenant, "quant", "reg")) == [event]
    # Registering it again is refused and writes nothing: no second event, no changed doc.
    again, again_event = strategy_registration(tenant, "quant", "reg", S.PAPER, entered, NOW)
    with pytest.raises(RecordConflict) as twice:
        await store.register_strategy(again, again_event)
    assert twice.value.field == "strategy_id"
    assert await store.get_strategy(tenant, "quant", "reg") == doc
    assert unchained_all(await store.list_audit_events(tenant, "quant", "reg")) == [event]
    # An event id already taken (by another strategy's history) refuses the document too.
    fresh, _ = strategy_registration(tenant, "quant", "late", S.OBSERVE, entered, NOW)
    clash = event.model_copy(update={"strategy_id": "late"})
    with pytest.raises(RecordConflict):
        await store.register_strategy(fresh, clash)
    assert await store.get_strategy(tenant, "quant", "late") is None


async def test_requests_are_mutable_workflow_state(store: GovernanceStore, tenant: str) -> None:
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
    assert await store.get_request(tenant, "r1") is None
    await store.put_request(request)
    assert await store.get_request(tenant, "r1") == request
    later = request.model_copy(
        update={"status": RequestStatus.REJECTED, "status_reason": "no", "updated_at": NOW}
    )
    await store.put_request(later)
    assert await store.get_request(tenant, "r1") == later
    # A late write of an earlier state (a retried save landing after the close) changes nothing,
    # nor does closing it another way; the same closed state may be written again.
    await store.put_request(request)
    await store.put_request(later.model_copy(update={"status": RequestStatus.APPROVED}))
    assert await store.get_request(tenant, "r1") == later
    again = later.model_copy(update={"status_reason": "no, and here is why"})
    await store.put_request(again)
    assert await store.get_request(tenant, "r1") == again
    later = again
    other = request.model_copy(
        update={"request_id": "r2", "strategy_id": "s2", "requested_at": NOW + timedelta(1)}
    )
    await store.put_request(other)
    assert await store.list_requests(tenant) == [later, other]  # oldest first
    assert await store.list_requests(tenant, strategy_id="s2") == [other]
    assert await store.list_requests(tenant, uid="quant", strategy_id="s1") == [later]
    assert await store.list_requests(tenant, uid="nobody") == []


async def test_approver_directory(store: GovernanceStore, tenant: str) -> None:
    assert await store.list_approvers(tenant) == {}
    await store.put_approver(tenant, "bob", [Role.RISK_APPROVER, Role.OPS_APPROVER])
    assert set(await store.get_approver_roles(tenant, "bob") or []) == {
        Role.RISK_APPROVER,
        Role.OPS_APPROVER,
    }
    await store.put_approver(tenant, "bob", [Role.FINAL_AUTHORIZER])  # replaces the roles
    assert await store.get_approver_roles(tenant, "bob") == [Role.FINAL_AUTHORIZER]
    await store.put_approver(tenant, "carol", [Role.OPS_APPROVER])
    assert await store.get_approver_roles(tenant, "nobody") is None
    assert await store.list_approvers(tenant) == {
        "bob": [Role.FINAL_AUTHORIZER],
        "carol": [Role.OPS_APPROVER],
    }


async def test_an_approver_change_and_its_audit_event_land_together(
    store: GovernanceStore, tenant: str
) -> None:
    def event(event_id: str, roles: list[str]) -> AuditEvent:
        return AuditEvent(
            event_id=event_id,
            event_type="directory.approver_roles_set",
            ts=NOW,
            tenant_id=tenant,
            details={"user": "bob", "roles": roles},
        )

    first = event("dir-1", ["risk_approver"])
    await store.put_approver(tenant, "bob", [Role.RISK_APPROVER], first)
    assert await store.get_approver_roles(tenant, "bob") == [Role.RISK_APPROVER]
    stored = await store.get_audit_event(tenant, "dir-1")
    assert stored is not None and unchained(stored) == first
    await store.put_approver(tenant, "bob", [Role.OPS_APPROVER], event("dir-2", ["ops_approver"]))
    # A retry of the first change (its event is stored) must not undo the second.
    await store.put_approver(tenant, "bob", [Role.RISK_APPROVER], first)
    assert await store.get_approver_roles(tenant, "bob") == [Role.OPS_APPROVER]
    # A different event under a stored id is refused, and the directory is left as it was.
    with pytest.raises(RecordConflict):
        await store.put_approver(tenant, "bob", [Role.FINAL_AUTHORIZER], event("dir-2", ["x"]))
    assert await store.get_approver_roles(tenant, "bob") == [Role.OPS_APPROVER]
    assert [e.event_id for e in await store.list_audit_events(tenant)] == ["dir-1", "dir-2"]


async def test_evaluation_reports_are_create_only(store: GovernanceStore, tenant: str) -> None:
    report = sample_report()
    other = sample_report(hit_rate=0.6).model_copy(update={"metrics_hash": report.metrics_hash})
    assert await store.get_evaluation_report(tenant, report.metrics_hash) is None
    assert await store.put_evaluation_report(tenant, report) == report.metrics_hash
    assert await store.put_evaluation_report(tenant, other) == report.metrics_hash
    back = await store.get_evaluation_report(tenant, report.metrics_hash)
    assert back == report  # the first one stays, series and all, exactly as written
    assert back is not None and back.hashed().metrics_hash == report.metrics_hash


async def test_risk_history_is_append_only_and_per_strategy(
    store: GovernanceStore, tenant: str
) -> None:
    def event(strategy: str, event_id: str, kind: RiskEventKind, at: int) -> StoredRiskEvent:
        return StoredRiskEvent(
            tenant_id=tenant,
            uid="quant",
            strategy_id=strategy,
            event_id=event_id,
            kind=kind,
            ts=NOW + timedelta(minutes=at),
            received_at=NOW + timedelta(minutes=at, seconds=1),
            details={"trace_id": f"t-{event_id}"},
        )

    first = event("a", "e1", RiskEventKind.KILL_SWITCH_ENABLED, 1)
    assert await store.record_risk_event(first) is True
    # A redelivery (received again later) is the same event: nothing new.
    again = first.model_copy(update={"received_at": NOW + timedelta(hours=1)})
    assert await store.record_risk_event(again) is False
    # The same id with other content is refused, naming the field; the first stays.
    with pytest.raises(RecordConflict) as refused:
        await store.record_risk_event(first.model_copy(update={"kind": RiskEventKind.CLOCK_SKEW}))
    assert refused.value.field == "event_id"
    # Event ids are per strategy: strategy b may reuse e1.
    assert await store.record_risk_event(event("b", "e1", RiskEventKind.CLOCK_SKEW, 2))
    assert await store.record_risk_event(event("a", "e2", RiskEventKind.AGENT_NOT_READY, 3))
    history = await store.list_risk_events(tenant, "quant", "a")
    assert [(e.event_id, e.kind) for e in history] == [
        ("e1", RiskEventKind.KILL_SWITCH_ENABLED),
        ("e2", RiskEventKind.AGENT_NOT_READY),
    ]
    assert await store.get_risk_event(tenant, "quant", "a", "e1") == first
    assert await store.get_risk_event(tenant, "quant", "a", "nope") is None


async def test_an_audit_event_is_read_back_by_id(store: GovernanceStore, tenant: str) -> None:
    event = AuditEvent(
        event_id="risk-1", event_type="risk.circuit_breaker_triggered", ts=NOW, tenant_id=tenant
    )
    assert await store.get_audit_event(tenant, "risk-1") is None
    await store.append_audit_event(event)
    stored = await store.get_audit_event(tenant, "risk-1")
    assert stored is not None and unchained(stored) == event


async def test_system_status(store: GovernanceStore, tenant: str) -> None:
    before = await store.get_system_status()
    try:
        await store.put_system_status({"is_shadow_mode": True, "note": tenant})
        assert await store.get_system_status() == {"is_shadow_mode": True, "note": tenant}
        await store.put_system_status({"is_shadow_mode": False})
        assert (await store.get_system_status())["is_shadow_mode"] is False
    finally:
        await store.put_system_status(before)  # one document for every tenant: leave it be


def a_token(secret: str, kind: TokenKind, tenant: str, subject: str) -> ApiToken:
    """A token issued at NOW for a minute."""
    return new_token_record(
        token=secret, kind=kind, tenant_id=tenant, subject=subject, now=NOW, ttl_seconds=60
    )


async def test_api_tokens(store: GovernanceStore, tenant: str) -> None:
    secret = f"t0k-{tenant}"  # API tokens are global: a name of this test's own
    api = a_token(secret, TokenKind.PERSONAL, tenant, "bob")
    assert await store.get_api_token(hash_token(secret)) is None
    await store.put_api_token(api)
    assert await store.get_api_token(hash_token(secret)) == api
    with pytest.raises(RecordConflict):
        await store.put_api_token(api)
    revoked = await store.revoke_api_token(hash_token(secret), NOW)
    assert revoked is not None and revoked.revoked_at == NOW
    again = await store.revoke_api_token(hash_token(secret), NOW + timedelta(1))
    assert again == revoked  # the first revocation time stays
    assert await store.revoke_api_token(hash_token("unknown"), NOW) is None


async def test_a_token_and_its_audit_event_land_together(
    store: GovernanceStore, tenant: str
) -> None:
    secret = f"t0k-audited-{tenant}"
    api = a_token(secret, TokenKind.SERVICE, tenant, "risk")
    issued = token_issued(api, by="ops", event_id="tok-1")
    await store.put_api_token(api, issued)
    assert await store.get_api_token(api.token_hash) == api
    with pytest.raises(RecordConflict):  # the hash is stored: neither the token nor an event
        await store.put_api_token(api, token_issued(api, by="ops", event_id="tok-2"))
    revoked = token_revoked(api, by="ops", at=NOW, event_id="tok-3")
    assert (await store.revoke_api_token(api.token_hash, NOW, revoked)) is not None
    # Revoked already: returned as it is, and the second revocation's event is not written.
    late = token_revoked(api, by="ops", at=NOW + timedelta(1), event_id="tok-4")
    again = await store.revoke_api_token(api.token_hash, NOW + timedelta(1), late)
    assert again is not None and again.revoked_at == NOW
    assert [e.event_id for e in await store.list_audit_events(tenant)] == ["tok-1", "tok-3"]


async def test_confirmation_tokens_are_single_use(store: GovernanceStore, tenant: str) -> None:
    live = issue(
        token="c0nfirm", tenant_id=tenant, request_id="r1", user="dave", now=NOW, ttl_seconds=300
    )
    await store.put_confirmation_token(live)
    with pytest.raises(RecordConflict):
        await store.put_confirmation_token(live)
    used = await store.redeem_confirmation_token(tenant, hash_token("c0nfirm"), "r1", "dave", NOW)
    assert used.redeemed_at == NOW
    # The same redemption again (an activity retry) returns the same answer.
    again = await store.redeem_confirmation_token(tenant, hash_token("c0nfirm"), "r1", "dave", NOW)
    assert again == used
    with pytest.raises(TokenRefused):
        await store.redeem_confirmation_token(
            tenant, hash_token("c0nfirm"), "r1", "dave", NOW + timedelta(1)
        )
    with pytest.raises(TokenRefused):
        await store.redeem_confirmation_token(tenant, hash_token("nope"), "r1", "dave", NOW)


async def test_audit_events_are_create_only(store: GovernanceStore, tenant: str) -> None:
    first = AuditEvent(event_id="a1", event_type="x", ts=NOW, tenant_id=tenant, uid="quant")
    second = AuditEvent(
        event_id="a2", event_type="y", ts=NOW, tenant_id=tenant, uid="ada", strategy_id="s9"
    )
    await store.append_audit_event(first)
    await store.append_audit_event(second)
    await store.append_audit_event(first)  # the same event again is a no-op
    with pytest.raises(RecordConflict) as refused:
        await store.append_audit_event(first.model_copy(update={"event_type": "rewritten"}))
    assert refused.value.field == "event_id"
    assert unchained_all(await store.list_audit_events(tenant)) == [first, second]  # in order
    assert unchained_all(await store.list_audit_events(tenant, uid="ada")) == [second]
    assert unchained_all(await store.list_audit_events(tenant, strategy_id="s9")) == [second]


async def test_tenants_are_isolated(store: GovernanceStore, tenant: str) -> None:
    # Tenant ids that a pattern match would confuse: '_' vs any character, and letter case.
    mine, lookalike, shouting = f"{tenant}_a", f"{tenant}xa", f"{tenant}_A"
    for t in (mine, lookalike, shouting):
        doc = await registered(store, t)
        await store.put_policy(t, default_policy(f"{t}-v1"))
        await store.put_approver(t, f"{t}-bob", [Role.RISK_APPROVER])
        await store.commit_stage_change(change(doc, S.SHADOW))
    assert [d.tenant_id for d in await store.list_strategies(mine)] == [mine]
    assert [r.tenant_id for r in await store.list_records(mine)] == [mine]
    assert [e.tenant_id for e in await store.list_audit_events(mine)] == [mine]
    assert list(await store.list_approvers(mine)) == [f"{mine}-bob"]
    assert [p.policy_version for p in await store.list_policy_versions(mine)] == [f"{mine}-v1"]
    assert [d.tenant_id for d in await store.list_strategies(f"{tenant}%")] == []
