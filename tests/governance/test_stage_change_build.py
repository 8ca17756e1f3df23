"""`build_record` constructs the record from the validated change and document without
validating again (governance/stage_change.py): it must be exactly the record validation gives,
field for field, in its JSON and in its hash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from governance.limits import LimitEnvelopes
from governance.records import (
    ApprovedBy,
    EvidenceRef,
    MetricsSnapshot,
    PromotionRecord,
    RuntimeFingerprint,
    StrategyDoc,
    WaiverRef,
)
from governance.roles import Role
from governance.stage_change import StageChange, build_record, record_hash
from governance.stages import Decision
from governance.stages import LifecycleStage as S

# Not UTC on purpose: the change's validation converts it, the record must keep UTC.
AT = datetime(2026, 11, 25, 16, 30, tzinfo=timezone(timedelta(hours=1)))


def _change(**kw: Any) -> StageChange:
    fields: dict[str, Any] = {
        "tenant_id": "t",
        "uid": "u",
        "strategy_id": "s",
        "record_id": "r2",
        "audit_event_id": "e2",
        "decision": Decision.PROMOTE,
        "expected_from_stage": S.PAPER,
        "expected_last_record_id": "r1",
        "to_stage": S.LIVE,
        "reason_code": "eligible",
        "policy_version": "v3",
        "requested_by": "quant",
        "requested_at": AT,
        "effective_at": AT + timedelta(minutes=5),
    }
    return StageChange.model_validate({**fields, **kw})


DOC = StrategyDoc(
    tenant_id="t",
    uid="u",
    strategy_id="s",
    lifecycle_stage=S.PAPER,
    last_stage_change_record_id="r1",
    last_record_hash="ab" * 32,
    chain_length=1,
    freeze_reason="kept",
)
CHANGES = {
    "bare": _change(),
    "everything": _change(
        approved_by=[
            ApprovedBy(role=Role.RISK_APPROVER, uid="bob", approved_at=AT, metrics_hash="m"),
            ApprovedBy(role=Role.OPS_APPROVER, uid="olga", approved_at=AT, designated_person=True),
        ],
        metrics_snapshot=MetricsSnapshot(
            window_start=AT,
            window_end=AT + timedelta(days=20),
            metrics={"hit_rate": 0.56, "n": 1200, "nested": {"ic": [0.1, -0.02]}},
            metrics_hash="m",
            waivers=[WaiverRef(criterion="ic", reason="new market")],
        ),
        evidence_refs=[EvidenceRef(kind="evaluations", id="f1", sha256="cd" * 32)],
        runtime_fingerprint=RuntimeFingerprint(git_sha="abc123", env="prod"),
        live_enabled_until=AT + timedelta(days=30),
        request_id="req-1",
        correlation_id="corr",
        limit_envelope=LimitEnvelopes().live,
        policy_hash="ef" * 32,
        set_freeze=True,
        freeze_reason="watch",
    ),
    "freeze keeps the doc's reason": _change(
        decision=Decision.FREEZE, to_stage=S.PAPER, set_freeze=True
    ),
}


@pytest.mark.parametrize("name", list(CHANGES))
def test_a_built_record_is_the_validated_record(name: str) -> None:
    record = build_record(CHANGES[name], DOC)
    validated = PromotionRecord.model_validate(record.model_dump())
    assert record == validated
    assert record.model_dump(mode="json") == validated.model_dump(mode="json")
    assert record.model_dump_json() == validated.model_dump_json()
    assert record.record_hash == record_hash(validated)
    reread = PromotionRecord.model_validate_json(record.model_dump_json())
    assert reread == record and record_hash(reread) == record.record_hash
    assert record.requested_at.tzinfo == UTC and record.sequence == 2
    assert record.prev_record_hash == DOC.last_record_hash
