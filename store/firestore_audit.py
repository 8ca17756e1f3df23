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

from collections.abc import Sequence
from typing import Any

from google.cloud import firestore

from governance.audit_chain import AuditHead, link
from governance.records import AuditEvent
from store import paths
from store.firestore_docs import audit_doc


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
    linked: list[AuditEvent] = []
    for event in events:
        one, head = link(event, head)
        linked.append(one)
        batch.create(
            client.document(paths.audit_link(tenant_id, head.audit_sequence)),
            {"event_id": head.event_id, "event_hash": head.event_hash},
        )
    for one in linked:
        batch.create(client.document(paths.audit_event(tenant_id, one.event_id)), audit_doc(one))
    if head is not None and linked:
        batch.set(head_ref(client, tenant_id), head.model_dump(mode="json"))
    return head
