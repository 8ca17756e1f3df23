"""A strategy's history as one timeline: who did what, when and why, from its promotion
records, its audit events and its workflows' histories (pure: the entries, not the reading)."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from governance.records import AuditEvent, PromotionRecord, UtcDatetime


class HistoryEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: UtcDatetime
    source: str  # "record #3 1a2b3c4d", "audit", or the workflow id
    what: str
    who: str = ""
    why: str = ""


def record_entry(record: PromotionRecord) -> HistoryEntry:
    approvals = ", ".join(f"{a.uid} ({a.role})" for a in record.approved_by)
    return HistoryEntry(
        at=record.effective_at,
        source=f"record #{record.sequence} {record.record_id[:8]}",
        what=f"{record.decision} {record.from_stage} -> {record.to_stage}"
        + (" frozen" if record.freeze else ""),
        who=record.requested_by + (f"; approved by {approvals}" if approvals else ""),
        why=record.reason_code,
    )


def audit_entry(event: AuditEvent) -> HistoryEntry:
    details = event.details
    return HistoryEntry(
        at=event.ts,
        source="audit",
        what=event.event_type,
        who=str(details.get("by") or details.get("source") or ""),
        why=str(
            details.get("explanation") or details.get("reason_code") or details.get("reason") or ""
        ),
    )


def timeline(entries: Iterable[HistoryEntry]) -> list[HistoryEntry]:
    """In time order; entries at the same instant keep the order they were given in."""
    return sorted(entries, key=lambda e: e.at)
