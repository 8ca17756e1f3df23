"""Registering a file of strategies on Firestore (governance/onboarding.py).

A batch holds at most 500 writes and a row takes four (its audit link, its event, the strategy
and its index entry), so 10,000 rows are many batches and cannot be one atomic write. What keeps
a refusal from writing anything is the order: every row is validated by the caller, and every
key of the file (each strategy and each registration event) is read, `get_all` in chunks,
before the first batch is committed. Only then do the batches land one after another, each
linking its events after the head the previous one left.

What stays non-atomic (docs/onboarding.md): a crash, or another writer registering one of the
file's strategies between the check and its batch, leaves the earlier batches landed. Each
registered event carries the file's digest, so a retry with the same file recognises those rows
as its own, skips them and writes the rest; a key taken by anyone else is still a refusal.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from google.cloud import firestore

from governance.audit_chain import AuditHead
from governance.errors import GovernanceError, RecordConflict
from governance.onboarding import BulkWrite, plan_bulk_registration
from governance.records import AuditEvent, StrategyDoc
from store import firestore_audit, paths
from store.firestore_audit import CREATE_RACE, append_audit, head_of, head_ref
from store.firestore_docs import audit_of

READ_CHUNK = 300  # references per get_all
ROWS_PER_BATCH = 120  # 4 writes a row + the head: 481 of Firestore's 500


def index_key(uid: str, strategy_id: str) -> str:
    return hashlib.sha256(f"{uid}\0{strategy_id}".encode()).hexdigest()


async def _read(client: firestore.AsyncClient, paths_: Sequence[str]) -> list[Any]:
    """The documents at `paths_`, in order (None where there is none), READ_CHUNK at a time."""
    out: list[Any] = []
    for start in range(0, len(paths_), READ_CHUNK):
        refs = [client.document(p) for p in paths_[start : start + READ_CHUNK]]
        found = {snap.reference.path: snap async for snap in client.get_all(refs)}
        out += [
            found[r.path].to_dict() if r.path in found and found[r.path].exists else None
            for r in refs
        ]
    return out


async def register_strategies(
    client: firestore.AsyncClient, docs: list[StrategyDoc], events: list[AuditEvent]
) -> list[StrategyDoc]:
    if not docs:
        return []
    tenant = docs[0].tenant_id
    if any(d.tenant_id != tenant for d in docs):
        raise GovernanceError("one tenant per file", field="tenant_id")
    strategy_paths = [paths.strategy(tenant, d.uid, d.strategy_id) for d in docs]
    found = await _read(client, strategy_paths)
    stored = await _read(client, [paths.audit_event(tenant, e.event_id) for e in events])
    plan = plan_bulk_registration(
        docs,
        events,
        [StrategyDoc.model_validate(f) if f else None for f in found],
        [audit_of(s) if s else None for s in stored],
    )
    head: AuditHead | None = None
    fresh = True  # read the head before the first batch and after a lost race
    for start in range(0, len(plan), ROWS_PER_BATCH):
        head, fresh = await _commit_chunk(
            client, tenant, plan[start : start + ROWS_PER_BATCH], start, head, fresh
        )
    return docs


async def _commit_chunk(
    client: firestore.AsyncClient,
    tenant: str,
    chunk: Sequence[BulkWrite],
    offset: int,
    head: AuditHead | None,
    fresh: bool,
) -> tuple[AuditHead | None, bool]:
    """One batch: the contested link creates first, then events, strategies, index entries."""
    for _ in range(firestore_audit.AUDIT_ATTEMPTS):
        if fresh:
            snap = await head_ref(client, tenant).get()
            head = head_of(snap.to_dict() if snap.exists else None)
        batch = client.batch()
        events = [w.event for w in chunk if w.event is not None]
        moved = append_audit(client, batch, tenant, events, head)
        for w in chunk:
            if w.doc is not None:
                path = paths.strategy(tenant, w.doc.uid, w.doc.strategy_id)
                batch.create(client.document(path), w.doc.model_dump(mode="json"))
                entry = {"uid": w.doc.uid, "strategy_id": w.doc.strategy_id}
                key = index_key(w.doc.uid, w.doc.strategy_id)
                batch.set(client.document(f"{paths.strategy_index(tenant)}/{key}"), entry)
        try:
            await batch.commit()
        except CREATE_RACE:
            await _refuse_if_taken(client, tenant, chunk, offset)
            await firestore_audit.back_off()
            fresh = True  # another writer of the tenant took the audit position
            continue
        return moved, False
    raise firestore_audit.contention()


async def _refuse_if_taken(
    client: firestore.AsyncClient, tenant: str, chunk: Sequence[BulkWrite], offset: int
) -> None:
    """After a refused batch: a strategy registered meanwhile by someone else ends the file."""
    docs = [(n, w.doc) for n, w in enumerate(chunk, start=offset + 1) if w.doc is not None]
    found = await _read(client, [paths.strategy(tenant, d.uid, d.strategy_id) for _, d in docs])
    for (n, doc), there in zip(docs, found, strict=True):
        if there is not None:
            raise RecordConflict(
                f"row {n}: strategy {doc.uid}/{doc.strategy_id} was registered meanwhile; "
                "the rows before its batch landed, a retry of the same file completes them",
                field=f"rows[{n}].strategy_id",
            )
