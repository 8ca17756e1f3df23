"""Compliance's tenant-wide checks: verify the whole ledger, sign a checkpoint, export a bundle."""

from __future__ import annotations

import uuid
from contextlib import suppress

from app.ports import Ports, Unavailable
from governance.bundle import PublicKeyEntry, render_bundle, verify_bundle
from governance.checkpoint import (
    CHECKPOINT_EVENT,
    Checkpoint,
    key_id,
    load_public_key,
    make_checkpoint,
    public_key_b64,
)
from governance.errors import GovernanceError, RecordConflict, RecordCorrupt
from governance.identity import Principal, require_person, require_tenant
from governance.ledger import (
    Finding,
    Ledger,
    LedgerVerification,
    PolicyEntry,
    current_leaves,
    policy_hash,
    verify_ledger,
)
from governance.records import AuditEvent, PromotionRecord
from store.port import GovernanceStore

Key = tuple[str, str]


async def load_ledger(store: GovernanceStore, tenant_id: str) -> Ledger:
    """Everything the tenant's verification reads, as the store holds it now."""
    docs = [d for d in await store.list_strategies(tenant_id) if d.tenant_id == tenant_id]
    keys: set[Key] = {(d.uid, d.strategy_id) for d in docs}
    with suppress(RecordCorrupt):  # a record that no longer parses is named per strategy below
        keys |= {(r.uid, r.strategy_id) for r in await store.list_records(tenant_id)}
    events = await store.list_audit_events(tenant_id)
    keys |= {(e.uid, e.strategy_id) for e in events if e.uid and e.strategy_id}
    records: list[PromotionRecord] = []
    problems: list[Finding] = []
    slots = []
    for uid, sid in sorted(keys):
        try:
            records += await store.list_records(tenant_id, uid, sid)
        except RecordCorrupt as exc:
            problems.append(
                Finding(
                    kind="strategy", subject=f"{uid}/{sid}", reason=exc.message, record_id=exc.field
                )
            )
        slots += await store.list_chain_slots(tenant_id, uid, sid)
    versions = await store.list_policy_versions(tenant_id)
    current = await store.get_policy(tenant_id)
    return Ledger(
        tenant_id=tenant_id,
        strategies=docs,
        records=records,
        chain_slots=slots,
        audit_events=events,
        audit_head=await store.get_audit_head(tenant_id),
        policies=[
            PolicyEntry(
                position=n,
                policy_version=p.policy_version,
                policy_hash=policy_hash(p.model_dump(mode="json")),
            )
            for n, p in enumerate(versions, start=1)
        ],
        current_policy_hash=policy_hash(current.model_dump(mode="json")) if current else None,
        policy_documents=versions,
        checkpoints=await store.list_checkpoints(tenant_id),
        problems=problems,
    )


async def verify_tenant(
    ports: Ports, who: Principal, *, tenant_id: str, uid: str | None, strategy_id: str | None
) -> LedgerVerification:
    """The whole ledger of the tenant; `uid`/`strategy_id` narrow the per-strategy chains shown
    (the tenant-wide checks, the audit chain and the checkpoints, always run)."""
    require_tenant(who, tenant_id)
    require_person(who)
    ledger = await load_ledger(ports.store, tenant_id)
    result = verify_ledger(ledger, {key_id(k): k for k in ports.checkpoint_keys()})
    chains = {
        name: v
        for name, v in result.chains.items()
        if (uid is None or name.split("/", 1)[0] == uid)
        and (strategy_id is None or name.split("/", 1)[1] == strategy_id)
    }
    return result.model_copy(update={"chains": chains})


CHECKPOINT_ATTEMPTS = 5


async def checkpoint(
    ports: Ports, who: Principal, *, tenant_id: str, checkpoint_id: str | None = None
) -> Checkpoint:
    """Sign the tenant's chain heads now and store the checkpoint with its audit event. With
    `checkpoint_id` (the scheduled workflow's), a checkpoint already stored under it is
    returned instead of a second one."""
    require_tenant(who, tenant_id)
    if ports.checkpoint_signer is None:
        raise Unavailable("no checkpoint signing key configured", field="checkpoint_key")
    key = ports.checkpoint_signer()
    wanted = checkpoint_id or str(uuid.uuid4())
    for _ in range(CHECKPOINT_ATTEMPTS):
        ledger = await load_ledger(ports.store, tenant_id)
        done = [c for c in ledger.checkpoints if c.body.checkpoint_id == wanted]
        if done:
            return done[0]  # a retry of this very checkpoint
        prev = max(ledger.checkpoints, key=lambda c: c.body.sequence, default=None)
        cp = make_checkpoint(
            tenant_id=tenant_id,
            checkpoint_id=wanted,
            sequence=(prev.body.sequence + 1) if prev else 1,
            prev=prev,
            created_at=ports.now(),
            leaves=current_leaves(ledger),
            key=key,
        )
        event = AuditEvent(
            event_id=f"checkpoint-{cp.body.checkpoint_id}",
            event_type=CHECKPOINT_EVENT,
            ts=cp.body.created_at,
            tenant_id=tenant_id,
            details={
                "checkpoint_id": cp.body.checkpoint_id,
                "sequence": cp.body.sequence,
                "checkpoint_hash": cp.checkpoint_hash(),
                "merkle_root": cp.body.merkle_root,
                "key_id": cp.body.key_id,
                "by": who.subject,
            },
        )
        try:
            await ports.store.put_checkpoint(cp, event)
        except RecordConflict:
            continue  # another checkpoint took this sequence: sign again after it
        return cp
    raise RecordConflict("other checkpoints kept taking the next sequence", field="checkpoint")


async def export_bundle(ports: Ports, who: Principal, *, tenant_id: str) -> dict[str, bytes]:
    """The tenant's bundle, file name -> bytes (`governance/bundle.py`), with every checkpoint
    public key this deployment trusts."""
    require_tenant(who, tenant_id)
    require_person(who)
    ledger = await load_ledger(ports.store, tenant_id)
    versions = await ports.store.list_policy_versions(tenant_id)
    current = await ports.store.get_policy(tenant_id)
    keys = [
        PublicKeyEntry(key_id=key_id(k), public_key=public_key_b64(k))
        for k in ports.checkpoint_keys()
    ]
    return render_bundle(
        ledger,
        [p.model_dump(mode="json") for p in versions],
        current.model_dump(mode="json") if current else None,
        keys,
        ports.now(),
    )


def verify_export(files: dict[str, bytes], public_keys: list[str]) -> LedgerVerification:
    """An export bundle (file name -> bytes) verified with no database and no principal: the
    whole point is that anyone holding it and the published keys (base64) can check it."""
    trusted = {}
    for given in public_keys:
        try:
            key = load_public_key(given)
        except ValueError:
            raise GovernanceError(
                f"{given!r} is not a base64 Ed25519 public key",
                field="--public-key",
                code="invalid_request",
            ) from None
        trusted[key_id(key)] = key
    return verify_bundle(files, trusted)
