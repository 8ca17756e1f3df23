"""The one atomic commit of a stage change on Firestore: governance's `plan_commit` applied as
a single batch whose first write claims the chain slot (create-only), so two racing commits
cannot both land; a document that changed under us (not its chain position) is re-read."""

from __future__ import annotations

from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import firestore

from governance.errors import PreconditionFailed, RecordConflict
from governance.fleet_changes import HALT_REFUSES, refuse_if_halted
from governance.records import PromotionRecord, StrategyDoc
from governance.stage_change import Landed, StageChange, conflict, plan_commit, same_commit
from store import firestore_audit, paths
from store.firestore_audit import append_audit, head_of
from store.firestore_docs import record_of, strategy_changes
from store.firestore_rpc import rpc_for
from store.firestore_writes import Writes

CREATE_RACE = (gexc.AlreadyExists, gexc.Conflict, gexc.FailedPrecondition)
# Attempts when the strategy document changed under us (not its chain position), or another
# writer of the tenant took the audit chain position we read as next.
AUDIT_ATTEMPTS = firestore_audit.AUDIT_ATTEMPTS
back_off = firestore_audit.back_off


async def _get(client: firestore.AsyncClient, path: str) -> dict[str, Any] | None:
    snap = await client.document(path).get()
    return snap.to_dict() if snap.exists else None


async def commit_stage_change(
    client: firestore.AsyncClient, change: StageChange
) -> PromotionRecord:
    # Each attempt that lands nothing re-reads; the tenant's other writers move the audit head
    # far more often than anything moves one strategy's document, hence the larger budget.
    own_slot = False
    for _ in range(AUDIT_ATTEMPTS):
        landed = await _commit_once(client, change, own_slot)
        if isinstance(landed, PromotionRecord):
            return landed
        own_slot = own_slot or landed == OWN_SLOT
        await back_off()
    raise PreconditionFailed(
        f"the strategy document or the tenant's audit chain kept changing during "
        f"{AUDIT_ATTEMPTS} commit attempts",
        field="expected_last_record_id",
    )


# The chain slot holds this very commit's record id but the record is absent: an earlier
# attempt's slot create landed and its audit link was taken (the emulator keeps the writes of a
# batch before a failing create; real Firestore never does). The slot is ours: keep it.
OWN_SLOT = "own_slot"


async def _commit_once(
    client: firestore.AsyncClient, change: StageChange, own_slot: bool = False
) -> PromotionRecord | str | None:
    """The record, or None (or OWN_SLOT) to read again: the strategy document changed since
    it was read (not its chain position), or another writer of the tenant took the audit
    chain position."""
    t = change.tenant_id
    strategy_path = paths.strategy(t, change.uid, change.strategy_id)
    record_path = paths.record(t, change.record_id)
    head_path = paths.audit_head(t)
    # One round trip for every read, the audit head among them; ids of audit events and the
    # request come from the workflow, so they are known before the plan.
    event_ids = [change.audit_event_id]
    if change.companion_event is not None:
        event_ids.append(change.companion_event.event_id)
    event_paths = [paths.audit_event(t, e) for e in event_ids]
    request_path = paths.request(t, change.request_id) if change.request_id else None
    # The tenant's halt and the platform switch, for what a halt refuses: a halt stored first
    # always wins. A demotion or a freeze lands whatever they say, so it does not read them.
    halt_paths = (
        [paths.tenant_halt(t), paths.SYSTEM_STATUS] if change.decision in HALT_REFUSES else []
    )
    wanted = [record_path, strategy_path, head_path, *event_paths, *halt_paths]
    if request_path is not None:
        wanted.append(request_path)
    found = await rpc_for(client).read(wanted)

    def data(path: str) -> dict[str, Any] | None:
        one = found[path]
        return one.data if one is not None else None

    existing_data, raw = data(record_path), data(strategy_path)
    doc = StrategyDoc.model_validate(raw) if raw else None
    plan = plan_commit(
        change,
        existing=record_of(change.record_id, existing_data) if existing_data else None,
        doc=doc,
    )
    if isinstance(plan, Landed):
        return plan.record  # a retry of a commit that already landed
    if halt_paths:
        refuse_if_halted(change, *(data(p) for p in halt_paths))
    record = plan.record
    strategy = found[strategy_path]
    assert doc is not None and strategy is not None  # plan_commit refuses an unregistered one
    for path, one in zip(event_paths, event_ids, strict=True):
        if found[path] is not None:
            # Ids come from the workflow, so a clash is a caller's bug: refuse before writing.
            raise RecordConflict(
                f"an audit event already exists under id {one}",
                field="audit_event_id",
            )
    # The request is closed only where it was read and found.
    close_at = request_path if request_path is not None and found[request_path] else None
    batch = Writes(client)
    # The contested writes go first: the chain slot, then the audit chain's link. If the slot
    # is taken nothing of this batch lands; if the link is, see OWN_SLOT.
    if not own_slot:
        slot = paths.chain_slot(t, change.uid, change.strategy_id, record.sequence)
        batch.create(slot, {"record_id": record.record_id})
    append_audit(client, batch, t, plan.audit_events, head_of(data(head_path)))
    batch.create(record_path, record.model_dump(mode="json"))
    # Only the fields this change sets, and only over the document as read.
    batch.update(
        strategy_path,
        strategy_changes(doc, plan.strategy),
        last_update_time=strategy.update_time,
    )
    close = plan.request
    if close is not None and close_at is not None:
        status = {
            "status": close.status.value,
            "record_id": close.record_id,
            "updated_at": close.updated_at.isoformat(),
        }
        batch.merge(close_at, status)
    try:
        await batch.commit()
    except CREATE_RACE:
        return await _after_refused_commit(client, change, record.sequence)
    return record


async def _existing(client: firestore.AsyncClient, change: StageChange) -> PromotionRecord | None:
    """The record already under this id: this very commit (a retry), or a conflict."""
    data = await _get(client, paths.record(change.tenant_id, change.record_id))
    if data is None:
        return None
    landed = record_of(change.record_id, data)
    if same_commit(landed, change):
        return landed
    raise conflict(change.record_id)


async def _after_refused_commit(
    client: firestore.AsyncClient, change: StageChange, sequence: int
) -> PromotionRecord | str | None:
    landed = await _existing(client, change)
    if landed is not None:
        return landed  # our own earlier attempt landed after all
    t, uid, sid = change.tenant_id, change.uid, change.strategy_id
    slot = await _get(client, paths.chain_slot(t, uid, sid, sequence))
    if slot is not None and slot.get("record_id") == change.record_id:
        return OWN_SLOT
    slot_taken = slot is not None
    raw = await _get(client, paths.strategy(t, uid, sid))
    moved_on = raw is None or StrategyDoc.model_validate(raw).chain_length >= sequence
    if not slot_taken and not moved_on:
        # The slot is free: the audit chain moved on, or the document changed. Read again.
        return None
    raise PreconditionFailed(
        f"another stage change took chain position {sequence} first",
        field="expected_last_record_id",
    )
