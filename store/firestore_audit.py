"""The one place FirestoreStore writes audit events (contract C1): linked into the tenant's hash
chain inside the batch of the write they belong to.

`append_audit` adds to a batch the create-only link document of each event's chain position
(`tenants/{t}/auditChainHead/current/links/{seq}`), then the event, then the head. Two writers
that read the same head race on the link's create: one batch lands, the other lands nothing
and starts over from a fresh head. Callers put it before their other writes (a stage change
puts its chain slot first, see firestore_commit.OWN_SLOT) because the Node emulator keeps the
writes of a batch before a failing create (measured); real Firestore applies a batch
atomically. The emulator also ignores `last_update_time` preconditions, so the head alone
could not settle a race. Every caller reads the head in the round trip of its other reads.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping, Sequence
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import firestore

from governance.audit_chain import AuditHead, link, same_event
from governance.checkpoint import Checkpoint
from governance.errors import GovernanceError, PreconditionFailed, RecordConflict
from governance.records import AuditEvent
from store import paths
from store.firestore_docs import audit_doc, audit_of
from store.firestore_rpc import rpc_for
from store.firestore_writes import Writes

CHECKPOINT_JSON = "checkpoint_json"  # stored as text: it reads back exactly as signed
CREATE_RACE = (gexc.AlreadyExists, gexc.Conflict, gexc.FailedPrecondition)
# Attempts of a write whose audit link another writer of the tenant took first.
AUDIT_ATTEMPTS = 50


def head_ref(client: firestore.AsyncClient, tenant_id: str) -> Any:
    return client.document(paths.audit_head(tenant_id))


def head_of(data: dict[str, Any] | None) -> AuditHead | None:
    return AuditHead.model_validate(data) if data else None


def append_audit(
    client: firestore.AsyncClient,
    batch: Any,
    tenant_id: str,
    events: Sequence[AuditEvent],
    head: AuditHead | None,
) -> AuditHead | None:
    """Add `events`, linked after `head`, to `batch`; the new head (unchanged if no events)."""

    # Raw `Writes` take a path as it is; the library's batches and transactions a reference
    # (building one is ~10 µs, a tenth of a stage change's own writes).
    def ref(path: str) -> Any:
        return path if isinstance(batch, Writes) else client.document(path)

    linked: list[AuditEvent] = []
    for event in events:
        one, head = link(event, head)
        linked.append(one)
        batch.create(
            ref(paths.audit_link(tenant_id, head.audit_sequence)),
            {"event_id": head.event_id, "event_hash": head.event_hash},
        )
    for one in linked:
        batch.create(ref(paths.audit_event(tenant_id, one.event_id)), audit_doc(one))
    if head is not None and linked:
        batch.set(ref(paths.audit_head(tenant_id)), head.model_dump(mode="json"))
    return head


def contention() -> PreconditionFailed:
    return PreconditionFailed(
        f"the tenant's audit chain kept moving during {AUDIT_ATTEMPTS} attempts",
        field="audit_chain",
    )


async def back_off() -> None:
    """A short random pause before re-reading a head another writer moved (spreads retries)."""
    await asyncio.sleep(random.uniform(0.001, 0.02))


async def put_checkpoint(
    client: firestore.AsyncClient, checkpoint: Checkpoint, event: AuditEvent
) -> None:
    """Create-only under its sequence, in one batch with its audit event."""
    body = checkpoint.body
    data = {"sequence": body.sequence, CHECKPOINT_JSON: checkpoint.model_dump_json()}
    await write_with_audit(
        client,
        event,
        creates={paths.checkpoint(body.tenant_id, body.sequence): data},
        taken=RecordConflict(f"checkpoint #{body.sequence} already exists", field="checkpoint"),
    )


async def list_checkpoints(client: firestore.AsyncClient, tenant_id: str) -> list[Checkpoint]:
    docs = [
        s.to_dict() or {} async for s in client.collection(paths.checkpoints(tenant_id)).stream()
    ]
    docs.sort(key=lambda d: int(d["sequence"]))
    return [Checkpoint.model_validate_json(d[CHECKPOINT_JSON]) for d in docs]


async def write_with_audit(
    client: firestore.AsyncClient,
    event: AuditEvent,
    *,
    sets: Mapping[str, dict[str, Any]] | None = None,
    creates: Mapping[str, dict[str, Any]] | None = None,
    taken: GovernanceError | None = None,
) -> None:
    """`event` linked into its tenant's chain with the documents of `sets` (path: JSON-shaped
    fields, replaced) and of `creates` (create-only: if one exists, `taken` is raised and
    nothing is written), in one batch after one read. A retry of one whose event is stored
    writes nothing (a later change stands)."""
    t = event.tenant_id
    event_path, head_path = paths.audit_event(t, event.event_id), paths.audit_head(t)
    creates, sets = creates or {}, sets or {}
    for _ in range(AUDIT_ATTEMPTS):
        found = await rpc_for(client).read([event_path, head_path, *creates])
        if taken is not None and any(found[p] is not None for p in creates):
            raise taken
        stored, head = found[event_path], found[head_path]
        if stored is not None:
            if not same_event(audit_of(stored.data), event):
                raise RecordConflict(
                    f"a different audit event already exists under id {event.event_id}",
                    field="event_id",
                )
            return
        batch = Writes(client)
        append_audit(client, batch, t, [event], head_of(head.data if head else None))
        for path, data in creates.items():
            batch.create(path, data)
        for path, data in sets.items():
            batch.set(path, data)
        try:
            await batch.commit()
            return
        except CREATE_RACE:
            await back_off()  # another writer took the chain position, or a create: read again
    raise contention()
