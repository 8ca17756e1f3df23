"""The audit events of a tenant halt and its resume, and the figures they record (the halt's
timings, the bulk unfreeze's counts): one audit story per halt, ids derived from the halt."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from governance.fleet_changes import fleet_id
from governance.fleet_halt import ResumeApproval, ResumeStep, TenantHalt
from governance.records import AuditEvent, Severity


def _event(halt: TenantHalt, kind: str, event_id: str, at: datetime, **details: Any) -> AuditEvent:
    return AuditEvent(
        event_id=event_id,
        event_type=kind,
        severity=Severity.CRITICAL if kind == "tenant.halted" else Severity.INFO,
        ts=at,
        tenant_id=halt.tenant_id,
        correlation_id=halt.halt_id,
        details={"halt_id": halt.halt_id, **details},
    )


def halted_event(halt: TenantHalt) -> AuditEvent:
    return _event(
        halt,
        "tenant.halted",
        fleet_id(halt.halt_id, "halted"),
        halt.halted_at,
        by=halt.halted_by,
        via=halt.via,
        reason=halt.reason,
        posture=halt.posture.value,
        freeze=halt.freeze,
        resume_roles=[r.value for r in halt.resume_roles],
    )


def resume_approved_event(halt: TenantHalt, approval: ResumeApproval) -> AuditEvent:
    return _event(
        halt,
        "tenant.resume_approved",
        fleet_id(halt.halt_id, "resume-approval", approval.user),
        approval.approved_at,
        by=approval.user,
        role=approval.role.value,
        unfreeze=halt.unfreeze,
        comment=approval.comment,
    )


def resume_events(step: ResumeStep) -> list[AuditEvent]:
    """The approval's event, and the resume's when this approval lifted the halt."""
    events = [resume_approved_event(step.halt, step.approval)]
    return [*events, resumed_event(step.halt)] if step.lifted else events


def resumed_id(halt_id: str) -> str:
    return fleet_id(halt_id, "resumed")


def resumed_event(halt: TenantHalt) -> AuditEvent:
    assert halt.resumed_at is not None
    return _event(
        halt,
        "tenant.resumed",
        resumed_id(halt.halt_id),
        halt.resumed_at,
        by=halt.resumed_by,
        approved_by=[{"user": a.user, "role": a.role.value} for a in halt.approvals],
        unfreeze=halt.unfreeze,
        halted_for_seconds=(halt.resumed_at - halt.halted_at).total_seconds(),
    )


class HaltTimings(BaseModel):
    """What `tenant.halt_completed` records: the figures of the self-assessment."""

    model_config = ConfigDict(frozen=True)

    gate_closed_seconds: float
    last_record_seconds: float
    strategies: int
    records: int
    skipped: int
    cancelled_requests_query: str


def completed_id(halt: TenantHalt) -> str:
    return fleet_id(halt.halt_id, "completed")


def completed_event(halt: TenantHalt, timings: HaltTimings, at: datetime) -> AuditEvent:
    return _event(
        halt,
        "tenant.halt_completed",
        completed_id(halt),
        at,
        **timings.model_dump(mode="json"),
    )


class UnfreezeTimings(BaseModel):
    """What `tenant.unfreeze_completed` records: the bulk unfreeze after a resume."""

    model_config = ConfigDict(frozen=True)

    records: int
    skipped: int
    # From the resume (the last approval) to the last unfreeze record committed.
    last_record_seconds: float = 0.0
    # A new halt was stored before the unfreeze finished: the rest stays frozen, by it.
    superseded: bool = False


def unfrozen_id(halt: TenantHalt) -> str:
    return fleet_id(halt.halt_id, "unfreeze-completed")


def unfrozen_event(halt: TenantHalt, timings: UnfreezeTimings, at: datetime) -> AuditEvent:
    return _event(
        halt,
        "tenant.unfreeze_completed",
        unfrozen_id(halt),
        at,
        **timings.model_dump(mode="json"),
    )
