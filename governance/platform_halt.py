"""The platform halt's audit events, derived from `systemStatus/config` itself.

The switch is written first (it is what closes every gate) and its events after, in the audit
trail of the acting admin's tenant. Each event's id derives from the halt's time, so the events
are a function of the stored switch: appending them again after a crash between the two writes
(or on a retry) lands each exactly once.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from governance.fleet_halt import GLOBAL_LIFT, GlobalHalt, global_halt_of
from governance.fleet_halt import halt_details as _details
from governance.records import AuditEvent, Severity

_NS = uuid.UUID("0b8f4a52-2f7e-4c1e-b1a4-6a9d5c3e7f10")
HALTED = "platform.halted"
RESUMED = "platform.resumed"


def platform_event_id(kind: str, halted_at: datetime) -> str:
    return str(uuid.uuid5(_NS, f"{kind}\0{halted_at.isoformat()}"))


def platform_events(status: dict[str, Any]) -> list[AuditEvent]:
    """`platform.halted` for the halt now engaged, `platform.resumed` for the last lift (with
    the halt it lifted); none for what the status does not say (who, when, which tenant)."""
    events = []
    halt = global_halt_of(status)
    if halt is not None and halt.engaged:
        events += _halted(halt)
    lift = status.get(GLOBAL_LIFT)
    if isinstance(lift, dict):
        lifted = GlobalHalt(engaged=True, **_details(lift.get("lifted")))
        by = GlobalHalt(engaged=False, **_details(lift))
        events += _halted(lifted) + _resumed(lifted, by)
    return events


def _halted(halt: GlobalHalt) -> list[AuditEvent]:
    if halt.halted_at is None or halt.tenant_id is None:
        return []
    return [
        AuditEvent(
            event_id=platform_event_id(HALTED, halt.halted_at),
            event_type=HALTED,
            severity=Severity.CRITICAL,
            ts=halt.halted_at,
            tenant_id=halt.tenant_id,
            details={"by": halt.halted_by, "reason": halt.reason},
        )
    ]


def _resumed(halt: GlobalHalt, lift: GlobalHalt) -> list[AuditEvent]:
    if halt.halted_at is None or lift.halted_at is None or lift.tenant_id is None:
        return []
    return [
        AuditEvent(
            event_id=platform_event_id(RESUMED, halt.halted_at),
            event_type=RESUMED,
            ts=lift.halted_at,
            tenant_id=lift.tenant_id,
            details={
                "by": lift.halted_by,
                "reason": lift.reason,
                "halted_by": halt.halted_by,
                "halted_for_seconds": (lift.halted_at - halt.halted_at).total_seconds(),
            },
        )
    ]
