"""Compliance's reads: records, the audit trail, and the verification of every chain."""

from __future__ import annotations

from contextlib import suppress

from app.ports import Ports
from governance.chain import ChainVerification, verify_chain
from governance.errors import RecordCorrupt
from governance.identity import Principal, require_person, require_tenant
from governance.records import AuditEvent, PromotionRecord, StrategyDoc

Key = tuple[str, str]


async def list_records(
    ports: Ports, who: Principal, *, tenant_id: str, uid: str | None, strategy_id: str | None
) -> list[PromotionRecord]:
    require_tenant(who, tenant_id)
    require_person(who)
    return await ports.store.list_records(tenant_id, uid, strategy_id)


async def audit_trail(
    ports: Ports, who: Principal, *, tenant_id: str, uid: str | None, strategy_id: str | None
) -> list[AuditEvent]:
    require_tenant(who, tenant_id)
    require_person(who)
    return await ports.store.list_audit_events(tenant_id, uid, strategy_id)


async def verify_records(
    ports: Ports, who: Principal, *, tenant_id: str, uid: str | None, strategy_id: str | None
) -> dict[Key, ChainVerification]:
    """One verification per strategy: registered ones, and any whose records outlive its entry.
    Each chain's links, and that the strategy document points at the chain's last record."""
    require_tenant(who, tenant_id)
    require_person(who)
    store = ports.store
    docs = {
        (d.uid, d.strategy_id): d
        for d in await store.list_strategies(tenant_id, uid)
        # Exactly this tenant and strategy: a pattern match in an adapter must not widen it.
        if d.tenant_id == tenant_id and strategy_id in (None, d.strategy_id)
    }
    keys = set(docs)
    # A record that no longer parses is named by the per-strategy pass below.
    with suppress(RecordCorrupt):
        keys |= {
            (r.uid, r.strategy_id) for r in await store.list_records(tenant_id, uid, strategy_id)
        }
    if uid and strategy_id:
        keys.add((uid, strategy_id))
    results: dict[Key, ChainVerification] = {}
    for key in sorted(keys):
        try:
            records = await store.list_records(tenant_id, *key)
        except RecordCorrupt as exc:
            results[key] = ChainVerification(
                ok=False, checked=0, first_broken_record_id=exc.field, reason=exc.message
            )
            continue
        doc = docs.get(key)
        if doc is None and not records:
            continue  # neither registered nor recorded: nothing to verify
        result = verify_chain(records)
        results[key] = result if not result.ok else head_check(doc, records) or result
    return results


def head_check(doc: StrategyDoc | None, records: list[PromotionRecord]) -> ChainVerification | None:
    """The strategy doc must point at the last record: catches a chain cut short at its end, or a
    last record rewritten with a recomputed hash, which the links alone cannot show."""
    last = max(records, key=lambda r: r.sequence) if records else None
    if doc is None:
        assert last is not None
        return ChainVerification(
            ok=False,
            checked=len(records),
            first_broken_record_id=last.record_id,
            reason="records exist for a strategy that is not in the registry",
        )
    expected = (len(records), last.record_id if last else None, last.record_hash if last else None)
    actual = (doc.chain_length, doc.last_stage_change_record_id, doc.last_record_hash)
    if expected == actual:
        return None
    return ChainVerification(
        ok=False,
        checked=len(records),
        first_broken_record_id=doc.last_stage_change_record_id or (last and last.record_id),
        reason=(
            f"chain head: the strategy points at record {doc.last_stage_change_record_id} "
            f"(#{doc.chain_length}, hash {str(doc.last_record_hash)[:12]}), the stored chain "
            f"ends at {last.record_id if last else 'nothing'} (#{len(records)})"
        ),
    )
