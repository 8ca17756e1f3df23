"""Who did what an audit event records: the actor column of an audit trail.

Events name their actor in different fields (an approval's `by`, a risk event's `source`, a
halt's `halted_by`); a stage change or a request names it through its record or request, which
the caller passes in (by record id and by request id).
"""

from __future__ import annotations

from collections.abc import Mapping

from governance.records import AuditEvent

ACTOR_FIELDS = ("by", "approved_by", "halted_by", "requested_by", "user", "source")


def audit_actor(
    event: AuditEvent,
    record_actors: Mapping[str, str] | None = None,
    request_actors: Mapping[str, str] | None = None,
) -> str:
    details = event.details
    for key in ACTOR_FIELDS:
        value = details.get(key)
        if isinstance(value, str) and value:
            return value
    record_id = details.get("promotion_record_id")
    if isinstance(record_id, str) and record_actors and record_id in record_actors:
        return record_actors[record_id]
    request_id = details.get("request_id")
    if isinstance(request_id, str) and request_actors and request_id in request_actors:
        return request_actors[request_id]
    if event.event_type == "strategy.registered":
        return "registry"
    return "—"
