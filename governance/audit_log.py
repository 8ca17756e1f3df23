"""Structured JSON logs (structlog) with the spec's section 4A fields on every stage change."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from governance.records import PromotionRecord

_configured = False


def configure(level: int = logging.INFO, stream: Any = None) -> None:
    """JSON lines on stderr (or `stream`); idempotent so every entry point may call it."""
    global _configured
    if _configured and stream is None:
        return
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(sort_keys=True),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(stream or sys.stderr),
        cache_logger_on_first_use=False,
    )
    _configured = True


def stage_change_fields(
    record: PromotionRecord, event_type: str, correlation_id: str | None = None
) -> dict[str, Any]:
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
        "correlation_id": correlation_id or record.correlation_id,
        "trace_id": correlation_id or record.correlation_id,
        "git_sha": record.runtime_fingerprint.git_sha,
        "reason_code": record.reason_code,
    }


def log_stage_change(
    record: PromotionRecord, event_type: str, correlation_id: str | None = None
) -> dict[str, Any]:
    fields = stage_change_fields(record, event_type, correlation_id)
    structlog.get_logger("stratgate").info("stage_change", **fields)
    return fields
