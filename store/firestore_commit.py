"""The one atomic commit of a stage change on Firestore: governance's `plan_commit` applied as
a single batch whose first write claims the chain slot (create-only), so two racing commits
cannot both land; a document that changed under us (not its chain position) is re-read."""

from __future__ import annotations

import asyncio
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import firestore

from governance.errors import PreconditionFailed, RecordConflict
from governance.records import PromotionRecord, StrategyDoc
from governance.stage_change import Landed, StageChange, conflict, plan_commit, same_commit
from store import paths
from store.firestore_docs import audit_doc, record_of, strategy_changes

CREATE_RACE = (gexc.AlreadyExists, gexc.Conflict, gexc.FailedPrecondition)
# Commit attempts when only the strategy document changed under us (not its chain position).
COMMIT_ATTEMPTS = 5


async def _get(client: firestore.AsyncClient, path: str) -> dict[str, Any] | None:
    snap = await client.document(path).get()
    return snap.to_dict() if snap.exists else None


async def commit_stage_change(
    client: firestore.AsyncClient, change: StageChange
) -> PromotionRecord:
    for _ in range(COMMIT_ATTEMPTS):
        landed = await _commit_once(client, change)
        if landed is not None:
            return landed
    raise PreconditionFailed(
        f"the strategy document kept changing during {COMMIT_ATTEMPTS} commit attempts",
        field="expected_last_record_id",
    )


async def _commit_once(
    client: firestore.AsyncClient, change: StageChange
) -> PromotionRecord | None:
    """The record, or None when only the strategy document changed since it was read."""
    t = change.tenant_id
    strategy_ref = client.document(paths.strategy(t, change.uid, change.strategy_id))
    existing_data, snap = await asyncio.gather(
        _get(client, paths.record(t, change.record_id)), strategy_ref.get()
    )
    raw = snap.to_dict() if snap.exists else None
    plan = plan_commit(
        change,
        existing=record_of(change.record_id, existing_data) if existing_data else None,
        doc=StrategyDoc.model_validate(raw) if raw else None,
    )
    if isinstance(plan, Landed):
        return plan.record  # a retry of a commit that already landed
    record = plan.record
    for one in plan.audit_events:
        if await _get(client, paths.audit_event(t, one.event_id)) is not None:
            # Ids come from the workflow, so a clash is a caller's bug: refuse before writing.
            raise RecordConflict(
                f"an audit event already exists under id {one.event_id}",
                field="audit_event_id",
            )
    request_ref = None
    if plan.request is not None:
        request_ref = client.document(paths.request(t, plan.request.request_id))
        if not (await request_ref.get()).exists:
            request_ref = None  # as in SQLite: no request document, nothing to close
    batch = client.batch()
    # The contested write goes first: if the slot is taken, nothing of this batch lands.
    slot = paths.chain_slot(t, change.uid, change.strategy_id, record.sequence)
    batch.create(client.document(slot), {"record_id": record.record_id})
    batch.create(
        client.document(paths.record(t, record.record_id)),
        record.model_dump(mode="json"),
    )
    for one in plan.audit_events:
        batch.create(client.document(paths.audit_event(t, one.event_id)), audit_doc(one))
    # Only the fields this change sets, and only over the document as read.
    batch.update(
        strategy_ref,
        strategy_changes(StrategyDoc.model_validate(raw), plan.strategy),
        option=client.write_option(last_update_time=snap.update_time),
    )
    if request_ref is not None and plan.request is not None:
        status = {
            "status": plan.request.status.value,
            "record_id": plan.request.record_id,
            "updated_at": plan.request.updated_at.isoformat(),
        }
        batch.set(request_ref, status, merge=True)
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
) -> PromotionRecord | None:
    landed = await _existing(client, change)
    if landed is not None:
        return landed  # our own earlier attempt landed after all
    t, uid, sid = change.tenant_id, change.uid, change.strategy_id
    slot_taken = await _get(client, paths.chain_slot(t, uid, sid, sequence)) is not None
    raw = await _get(client, paths.strategy(t, uid, sid))
    moved_on = raw is None or StrategyDoc.model_validate(raw).chain_length >= sequence
    if not slot_taken and not moved_on:
        return None  # the slot is free but the document changed: read again and retry
    raise PreconditionFailed(
        f"another stage change took chain position {sequence} first",
        field="expected_last_record_id",
    )
