"""The structured log line of every stage change, with the spec's fields."""

from __future__ import annotations

from typing import Any

import structlog

from governance.audit_log import stage_change_fields
from governance.records import PromotionRecord


def log_stage_change(
    record: PromotionRecord, event_type: str, correlation_id: str | None = None
) -> dict[str, Any]:
    fields = stage_change_fields(record, event_type, correlation_id)
    structlog.get_logger("stratgate").info("stage_change", **fields)
    return fields
