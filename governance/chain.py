"""Verification of a strategy's hash chain of promotion records."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from governance.errors import RecordCorrupt
from governance.records import PromotionRecord
from governance.stage_change import record_hash


class ChainSlot(BaseModel):
    """The create-only claim of one chain position, as the store keeps it."""

    uid: str
    strategy_id: str
    sequence: int
    record_id: str


class ChainVerification(BaseModel):
    ok: bool
    checked: int
    first_broken_record_id: str | None = None
    reason: str | None = None


def verify_chain(records: Iterable[PromotionRecord]) -> ChainVerification:
    """Check every record's own hash, its link to the previous one and its position.

    Names the first broken link, so an auditor knows where history stops being trustworthy.
    """
    ordered = sorted(records, key=lambda r: r.sequence)
    # Every record's own hash first: an altered field (its sequence included) names the record
    # that was altered, not a neighbour it displaced.
    for position, record in enumerate(ordered, start=1):
        if record.record_hash != record_hash(record):
            return ChainVerification(
                ok=False,
                checked=position,
                first_broken_record_id=record.record_id,
                reason="record_hash does not match the record's content (altered)",
            )
    prev_hash: str | None = None
    for expected_sequence, record in enumerate(ordered, start=1):
        problem = None
        if record.sequence != expected_sequence:
            problem = f"sequence {record.sequence} where {expected_sequence} was expected"
        elif record.prev_record_hash != prev_hash:
            problem = "prev_record_hash does not match the previous record's hash"
        if problem:
            return ChainVerification(
                ok=False,
                checked=expected_sequence,
                first_broken_record_id=record.record_id,
                reason=problem,
            )
        prev_hash = record.record_hash
    return ChainVerification(ok=True, checked=len(ordered))


def stored_record(record_id: str, data: str | dict[str, Any]) -> PromotionRecord:
    """A record as a store holds it (JSON text or a document), or RecordCorrupt naming it: a
    record that no longer parses was altered outside stratgate."""
    try:
        if isinstance(data, str):
            return PromotionRecord.model_validate_json(data)
        return PromotionRecord.model_validate(data)
    except ValidationError as exc:
        raise RecordCorrupt(
            f"record {record_id} no longer parses ({exc.error_count()} errors): altered",
            field=record_id,
        ) from None
