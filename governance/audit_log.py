"""The spec's section 4A fields of a stage change's structured log line (written by
`activities/stage_log.py`; configured at the edges by `logging_setup.py`)."""

from __future__ import annotations

from typing import Any

from governance.records import PromotionRecord


def stage_change_fields(
    record: PromotionRecord,
    event_type: str,
    correlation_id: str | None = None,
    trace_id: str | None = None,
) -> dict[str, Any]:
    """`trace_id` is the OpenTelemetry trace's when tracing is on, else the correlation id."""
    correlation = correlation_id or record.correlation_id
    return {
        "event_type": event_type,
        "tenant_id": record.tenant_id,
        "uid": record.uid,
        "strategy_id": record.strategy_id,
        "from_stage": record.from_stage,
        "to_stage": record.to_stage,
        "decision": record.decision,
        "policy_version": record.policy_version,
        "promotion_record_id": record.record_id,
        "correlation_id": correlation,
        "trace_id": trace_id or correlation,
        "git_sha": record.runtime_fingerprint.git_sha,
        "reason_code": record.reason_code,
    }
