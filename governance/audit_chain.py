"""The tenant's audit hash chain: how an appended event is linked, and how a trail is verified.

Each audit event, when a store appends it, gets `audit_sequence` (per tenant, from 1),
`prev_event_hash` (the previous event's `event_hash`, None for the first) and `event_hash`
(the RFC 8785 canonical hash of the event without `event_hash`). The store keeps the tenant's
head (sequence, hash, event id) beside the events and moves it in the same transaction, so
deleting, editing, inserting or reordering an event breaks a link or the head.

Events stored before the chain existed carry no chain fields. They are *legacy*: accepted, and
counted as unchained, only while they come before the first chained event in stored order; an
unchained event after the chain began is an insertion.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from governance.hashing import canonical_hash
from governance.records import AuditEvent

CHAIN_FIELDS = frozenset({"audit_sequence", "prev_event_hash", "event_hash"})


class AuditHead(BaseModel):
    """The last event of a tenant's audit chain, as the store keeps it."""

    model_config = ConfigDict(frozen=True)

    audit_sequence: int
    event_hash: str
    event_id: str


def event_hash(event: AuditEvent) -> str:
    return canonical_hash(event.model_dump(mode="json", exclude={"event_hash"}))


def unchained(event: AuditEvent) -> AuditEvent:
    """The event as its caller built it: what two appends of the same event must agree on."""
    return event.model_copy(update=dict.fromkeys(CHAIN_FIELDS))


def same_event(stored: AuditEvent, incoming: AuditEvent) -> bool:
    return unchained(stored) == unchained(incoming)


def link(event: AuditEvent, head: AuditHead | None) -> tuple[AuditEvent, AuditHead]:
    """The event linked after `head` (None: the tenant's first chained event), and the new head.

    Whatever chain fields the caller set are replaced: only the store's head decides them.
    """
    linked = event.model_copy(
        update={
            "audit_sequence": head.audit_sequence + 1 if head else 1,
            "prev_event_hash": head.event_hash if head else None,
            "event_hash": None,
        }
    )
    linked = linked.model_copy(update={"event_hash": event_hash(linked)})
    assert linked.audit_sequence is not None and linked.event_hash is not None
    return linked, AuditHead(
        audit_sequence=linked.audit_sequence, event_hash=linked.event_hash, event_id=linked.event_id
    )


class AuditChainVerification(BaseModel):
    ok: bool
    checked: int
    legacy_unchained: int = 0
    first_broken_event_id: str | None = None
    reason: str | None = None
    head: AuditHead | None = None


def _broken(checked: int, legacy: int, event_id: str | None, reason: str) -> AuditChainVerification:
    return AuditChainVerification(
        ok=False,
        checked=checked,
        legacy_unchained=legacy,
        first_broken_event_id=event_id,
        reason=reason,
    )


def verify_audit_chain(
    events: Sequence[AuditEvent], head: AuditHead | None
) -> AuditChainVerification:
    """Check a tenant's whole trail (`events` in stored order) against its stored head.

    Names the first event where the chain stops being trustworthy and says why.
    """
    legacy = 0
    chained: list[AuditEvent] = []
    for event in events:
        if event.event_hash is None and event.audit_sequence is None:
            if chained:
                return _broken(
                    len(chained),
                    legacy,
                    event.event_id,
                    "an unchained event after the chain began (inserted)",
                )
            legacy += 1
        else:
            chained.append(event)
    # Each event's own hash first, so an edited event is named rather than its neighbour.
    for position, event in enumerate(chained, start=1):
        if event.event_hash != event_hash(event):
            return _broken(
                position,
                legacy,
                event.event_id,
                "event_hash does not match the event's content (altered)",
            )
    ordered = sorted(chained, key=lambda e: e.audit_sequence or 0)
    prev: str | None = None
    for expected, event in enumerate(ordered, start=1):
        problem = None
        if event.audit_sequence != expected:
            problem = (
                f"audit_sequence {event.audit_sequence} where {expected} was expected "
                "(an event before it was deleted, or one was inserted)"
            )
        elif event.prev_event_hash != prev:
            problem = "prev_event_hash does not match the previous event's hash"
        if problem:
            return _broken(expected, legacy, event.event_id, problem)
        prev = event.event_hash
    last = ordered[-1] if ordered else None
    expected_head = (
        AuditHead(
            audit_sequence=len(ordered), event_hash=last.event_hash or "", event_id=last.event_id
        )
        if last
        else None
    )
    if expected_head != head:
        return _broken(
            len(ordered),
            legacy,
            (head.event_id if head else None) or (last.event_id if last else None),
            f"audit chain head: the store's head is "
            f"{_describe(head)}, the stored events end at {_describe(expected_head)} "
            "(events cut off at the end, or the head rewritten)",
        )
    return AuditChainVerification(
        ok=True, checked=len(ordered), legacy_unchained=legacy, head=expected_head
    )


def _describe(head: AuditHead | None) -> str:
    if head is None:
        return "nothing"
    return f"#{head.audit_sequence} {head.event_id} (hash {head.event_hash[:12]})"
