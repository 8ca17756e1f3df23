"""The structured log line of every stage change, with the spec's fields."""

from __future__ import annotations

from typing import Any

import structlog

from governance.audit_log import stage_change_fields
from governance.records import AuditEvent, PromotionRecord
from governance.stage_change import StageChange
from tracing_setup import current_trace_id, propagated_trace_id


def log_stage_change(
    record: PromotionRecord, event_type: str, correlation_id: str | None = None
) -> dict[str, Any]:
    # Read here, in the activity: the trace the audit event of this change was stamped with.
    fields = stage_change_fields(record, event_type, correlation_id, current_trace_id())
    structlog.get_logger("stratgate").info("stage_change", **fields)
    return fields


def traced_change(change: StageChange) -> StageChange:
    """The change stamped with the trace this activity runs in (unchanged when tracing is off).

    Any trace will do: a retry of a change that landed writes nothing (`plan_commit`)."""
    trace_id = current_trace_id()
    if trace_id is None:
        return change
    companion = change.companion_event
    return change.model_copy(
        update={
            "trace_id": trace_id,
            "companion_event": traced_event(companion) if companion is not None else None,
        }
    )


def traced_event(event: AuditEvent) -> AuditEvent:
    """An audit event stamped with its workflow's trace, unless it names a trace already (a
    risk event's own upstream trace is evidence and is kept). Only a propagated trace: the
    store accepts a retried append only if it is the same event."""
    trace_id = propagated_trace_id()
    if trace_id is None or event.trace_id is not None:
        return event
    return event.model_copy(update={"trace_id": trace_id})
