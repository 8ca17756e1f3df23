"""Firestore specifics on the emulator, and the security rules' shape."""

from __future__ import annotations

import asyncio
from pathlib import Path

from governance.chain import verify_chain
from governance.records import StrategyDoc
from governance.stages import LifecycleStage as S
from store import paths
from store.firestore import FirestoreStore
from tests.store_contract.test_contract import change

ROOT = Path(__file__).resolve().parents[2]


async def test_records_verify_after_a_round_trip(firestore_emulator_host: str, tenant: str) -> None:
    store = FirestoreStore.for_emulator(firestore_emulator_host, "stratgate-specific")
    doc = StrategyDoc(tenant_id=tenant, uid="quant", strategy_id="s1")
    await store.register_strategy(doc)
    await store.commit_stage_change(change(doc, S.SHADOW))
    after = await store.get_strategy(tenant, "quant", "s1")
    assert after is not None
    await store.commit_stage_change(change(after, S.OBSERVE, decision="demote"))  # type: ignore[arg-type]
    records = await store.list_records(tenant, "quant", "s1")
    assert len(records) == 2 and verify_chain(records).ok
    await store.close()


async def test_a_circuit_breaker_shadow_mode_write_is_honoured(
    firestore_emulator_host: str, tenant: str
) -> None:
    store = FirestoreStore.for_emulator(firestore_emulator_host, "stratgate-specific")
    # What the platform's circuit breaker writes, with fields of its own.
    await store.client.document(paths.strategy(tenant, "quant", "cb")).set(
        {
            "tenant_id": tenant,
            "uid": "quant",
            "strategy_id": "cb",
            "lifecycle_stage": "PAPER",
            "execution_mode": "SHADOW_MODE",
            "shadow_mode_reason": "daily_loss_limit",
            "shadow_mode_activated_at": "2026-11-25T10:00:00Z",
            "params": {"lookback": 20},
        }
    )
    doc = await store.get_strategy(tenant, "quant", "cb")
    assert doc is not None and doc.effective_stage() == S.SHADOW
    assert doc.shadow_mode_reason == "daily_loss_limit"
    await store.close()


async def test_racing_clients_land_one_commit_per_position(
    firestore_emulator_host: str, tenant: str
) -> None:
    stores = [
        FirestoreStore.for_emulator(firestore_emulator_host, "stratgate-specific") for _ in range(3)
    ]
    doc = StrategyDoc(tenant_id=tenant, uid="quant", strategy_id="race")
    await stores[0].register_strategy(doc)
    racers = [stores[i % 3].commit_stage_change(change(doc, S.SHADOW)) for i in range(10)]
    results = await asyncio.gather(*racers, return_exceptions=True)
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert len(await stores[1].list_records(tenant, "quant", "race")) == 1
    assert len(await stores[2].list_audit_events(tenant, "quant", "race")) == 1
    for s in stores:
        await s.close()


def test_rules_keep_history_create_only() -> None:
    rules = (ROOT / "firestore.rules").read_text()
    history = [
        "/tenants/{tenantId}/governance/promotion_records/records/{recordId}",
        "/tenants/{tenantId}/audit_events/{eventId}",
        "/tenants/{tenantId}/users/{uid}/strategies/{strategyId}/chain/{slot}",
        "/tenants/{tenantId}/governance/promotion_policy/versions/{version}",
    ]
    for path in history:
        start = rules.index(f"match {path} {{")
        block = rules[start : rules.index("\n    }", start)]
        assert "allow update, delete: if false;" in block, path
        assert "allow create: if service(tenantId);" in block, path
    assert "request.auth.token.tenant_id == tenantId" in rules  # tenants are isolated
