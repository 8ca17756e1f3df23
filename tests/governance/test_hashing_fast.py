"""canonical_json writes exactly rfc8785's bytes (or fails as it does), on any JSON value and on
the records and audit events the chains hash."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.hashing import canonical_hash, canonical_json
from governance.records import (
    AuditEvent,
    EvidenceRef,
    MetricsSnapshot,
    PromotionRecord,
    Severity,
)
from governance.stages import Decision
from governance.stages import LifecycleStage as S


def reference(value: Any) -> bytes | type[BaseException]:
    try:
        return rfc8785.dumps(value)
    except Exception as exc:  # the failure's kind must match too
        return type(exc)


def ours(value: Any) -> bytes | type[BaseException]:
    try:
        return canonical_json(value)
    except Exception as exc:
        return type(exc)


# Keys and strings over all of Unicode (controls, NUL, astral, lone surrogates), numbers of
# every size and float (NaN and infinities included: both must refuse them).
keys = st.text(max_size=6) | st.sampled_from(["record_id", "a", "B", "_x", "é", "\U0001f600"])
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**53) - 2, max_value=2**53 + 2)
    | st.floats()
    | st.floats(allow_nan=False, allow_infinity=False, width=32)
    | st.text()
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(keys, inner, max_size=5)
    ),
    max_leaves=25,
)


@settings(max_examples=1500, deadline=None)
@given(json_values)
def test_any_json_value_serializes_as_rfc8785_does(value: Any) -> None:
    assert ours(value) == reference(value)


def test_the_number_forms_that_differ_from_python_repr() -> None:
    for number in (1.0, -0.0, 1e21, 1e-7, 1e16, 123456789012345680.0, 5e-324, 0.1 + 0.2, 2**53 - 1):
        assert canonical_json([number]) == rfc8785.dumps([number])


NOW = datetime(2026, 11, 25, 15, tzinfo=UTC)
text = st.text(min_size=1, max_size=12)
identifiers = st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True)
metrics = st.dictionaries(
    st.text(max_size=10), st.floats(allow_nan=False, allow_infinity=False) | st.integers(-9, 9)
)


@st.composite
def records(draw: st.DrawFn) -> PromotionRecord:
    return PromotionRecord(
        record_id=draw(identifiers),
        tenant_id=draw(identifiers),
        uid=draw(identifiers),
        strategy_id=draw(identifiers),
        sequence=draw(st.integers(1, 10**6)),
        from_stage=S.OBSERVE,
        to_stage=S.SHADOW,
        decision=Decision.PROMOTE,
        policy_version=draw(st.none() | text),
        requested_by=draw(text),
        requested_at=NOW,
        effective_at=NOW,
        reason_code=draw(text),
        freeze_reason=draw(st.none() | text),
        metrics_snapshot=MetricsSnapshot(
            metrics=draw(metrics), metrics_hash=draw(st.none() | text)
        ),
        evidence_refs=[EvidenceRef(kind="parquet", id=draw(text), sha256="0" * 64)],
        prev_record_hash=draw(st.none() | st.just("f" * 64)),
        record_hash="",
    )


@st.composite
def audit_events(draw: st.DrawFn) -> AuditEvent:
    return AuditEvent(
        event_id=draw(identifiers),
        event_type=draw(text),
        severity=draw(st.sampled_from(list(Severity))),
        ts=NOW,
        tenant_id=draw(identifiers),
        uid=draw(st.none() | text),
        details=draw(st.dictionaries(st.text(max_size=8), json_values, max_size=4)),
        audit_sequence=draw(st.none() | st.integers(1, 10**9)),
    )


@settings(max_examples=300, deadline=None)
@given(records(), audit_events())
def test_records_and_audit_events_hash_as_with_rfc8785(
    record: PromotionRecord, event: AuditEvent
) -> None:
    for model in (record, event):
        dumped = model.model_dump(mode="json")
        assert ours(model) == reference(dumped)
        if isinstance(reference(dumped), bytes):
            assert canonical_hash(model) == canonical_hash(dumped)
