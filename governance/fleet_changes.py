"""The stage changes a tenant halt (and a resume that unfreezes) makes, one per strategy, and
the halt's audit events.

Ids derive from the halt id and the strategy, so a retried chunk names the very same records
and a store commits each once (governance.stage_change.same_commit).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from governance.errors import GovernanceError
from governance.fleet_halt import (
    ResumeApproval,
    ResumeStep,
    TenantHalt,
    TenantHalted,
    global_halt_of,
    refuse_promotion,
)
from governance.policy import PromotionPolicy
from governance.records import (
    AuditEvent,
    PromotionRecord,
    RuntimeFingerprint,
    Severity,
    StrategyDoc,
)
from governance.stage_change import StageChange
from governance.stages import Decision, rank

# What a halt refuses: anything that lets a strategy do more than it does now.
HALT_REFUSES = (Decision.PROMOTE, Decision.UNFREEZE)

_NS = uuid.UUID("6f1d3c1e-58a4-4d6e-9d1b-2f0d7e1a9c42")
HALT_REASON = "tenant_halt"
RESUME_REASON = "tenant_resume"


def fleet_id(halt_id: str, *parts: str) -> str:
    return str(uuid.uuid5(_NS, "\0".join((halt_id, *parts))))


def freeze_marker(halt_id: str) -> str:
    """The freeze reason the halt writes: a resume unfreezes only what this halt froze."""
    return f"tenant_halt:{halt_id}"


class SkippedChange(BaseModel):
    """A change of a batch that did not land, and why (nothing of it was written)."""

    model_config = ConfigDict(frozen=True)

    uid: str
    strategy_id: str
    record_id: str
    code: str
    field: str | None = None
    message: str


class StrategyPage(BaseModel):
    """One page of a tenant's strategies, and where the next starts (None: the last page).
    The cursor is the adapter's own; callers pass it back unread."""

    model_config = ConfigDict(frozen=True)

    strategies: list[StrategyDoc]
    cursor: str | None = None


class BatchCommit(BaseModel):
    """What `commit_stage_changes` did: the records that landed (or had landed, on a retry),
    in the order asked, and the changes it skipped."""

    model_config = ConfigDict(frozen=True)

    records: list[PromotionRecord]
    skipped: list[SkippedChange]


def skipped(change: StageChange, exc: GovernanceError) -> SkippedChange:
    return SkippedChange(
        uid=change.uid,
        strategy_id=change.strategy_id,
        record_id=change.record_id,
        code=exc.code,
        field=exc.field,
        message=exc.message,
    )


def check_batch(changes: list[StageChange]) -> None:
    """One tenant, one change per strategy: a batch is one tenant's fleet at one moment."""
    if len({c.tenant_id for c in changes}) > 1:
        raise GovernanceError("a batch of stage changes is one tenant's", field="tenant_id")
    keys = [(c.uid, c.strategy_id) for c in changes]
    if len(set(keys)) != len(keys):
        raise GovernanceError("a batch changes each strategy at most once", field="strategy_id")


def refuse_if_halted(
    change: StageChange, halt: dict[str, Any] | None, status: dict[str, Any] | None
) -> None:
    """Inside a commit, on the documents it read with everything else: a promotion or an
    unfreeze is refused while the tenant or the platform is halted, or when either switch
    cannot be read (unknown fails closed)."""
    if change.decision not in HALT_REFUSES:
        return
    try:
        tenant = TenantHalt.model_validate(halt) if halt else None
    except ValidationError:
        raise TenantHalted(
            "the tenant's halt document cannot be read: refused, since its state is unknown",
            field="tenant_halt",
        ) from None
    platform = global_halt_of(status or {})
    if platform is None:
        raise TenantHalted(
            "systemStatus/config.execution_halted cannot be read: refused, since its state "
            "is unknown",
            field="global_halt",
        )
    refuse_promotion(tenant, platform)


def halt_change(
    doc: StrategyDoc,
    halt: TenantHalt,
    *,
    policy_version: str | None,
    policy_hash: str | None,
    effective_at: datetime,
) -> StageChange | None:
    """The strategy moved to the halt's posture (frozen if the posture freezes); None when it
    is already at or below the posture and frozen (nothing to record)."""
    above = rank(doc.lifecycle_stage) > rank(halt.posture)
    if not above and (not halt.freeze or doc.freeze):
        return None
    return _fleet_change(
        doc,
        halt,
        "halt",
        policy_version=policy_version,
        policy_hash=policy_hash,
        effective_at=effective_at,
        decision=Decision.DEMOTE if above else Decision.FREEZE,
        to_stage=halt.posture if above else doc.lifecycle_stage,
        reason_code=HALT_REASON,
        requested_by=halt.halted_by,
        requested_at=halt.halted_at,
        set_freeze=True if halt.freeze else None,
        # A strategy frozen already keeps its own reason (and its own unfreeze path).
        freeze_reason=freeze_marker(halt.halt_id) if halt.freeze and not doc.freeze else None,
        severity=Severity.CRITICAL,
        audit_details={"halt_id": halt.halt_id, "by": halt.halted_by, "reason": halt.reason},
    )


def _fleet_change(
    doc: StrategyDoc,
    halt: TenantHalt,
    kind: str,
    *,
    policy_version: str | None,
    policy_hash: str | None,
    effective_at: datetime,
    **fields: Any,
) -> StageChange:
    """A change of the halt (`kind` "halt" or "unfreeze") to one strategy as it was read: ids
    derived from the halt and the strategy, so a retried page lands nothing twice."""
    return StageChange(
        tenant_id=doc.tenant_id,
        uid=doc.uid,
        strategy_id=doc.strategy_id,
        record_id=fleet_id(halt.halt_id, kind, doc.uid, doc.strategy_id),
        audit_event_id=fleet_id(halt.halt_id, f"{kind}-event", doc.uid, doc.strategy_id),
        expected_from_stage=doc.lifecycle_stage,
        expected_last_record_id=doc.last_stage_change_record_id,
        policy_version=policy_version,
        policy_hash=policy_hash,
        effective_at=effective_at,
        correlation_id=halt.halt_id,
        **fields,
    )


def halt_changes(
    docs: list[StrategyDoc],
    halt: TenantHalt,
    policy: PromotionPolicy | None,
    effective_at: datetime,
    runtime: RuntimeFingerprint | None = None,
) -> list[StageChange]:
    """The halt's change of each strategy of a page that needs one."""
    out = []
    for doc in docs:
        change = halt_change(
            doc,
            halt,
            policy_version=policy.policy_version if policy else None,
            policy_hash=policy.policy_hash if policy else None,
            effective_at=effective_at,
        )
        if change is not None:
            out.append(
                change.model_copy(update={"runtime_fingerprint": runtime}) if runtime else change
            )
    return out


# A request that passed its "not halted" check just as the halt was stored starts its workflow
# within moments of it; a resume needs two approvals, which take far longer than this.
CANCEL_MARGIN = timedelta(seconds=30)


def in_flight_query(tenant_id: str, started_before: datetime | None = None) -> str:
    """The visibility query of the tenant's running promotions (ids are `Identifier`s: no
    quote can end the literal). With `started_before`, only those started before it: the
    halt's cancel must not reach a request made after a resume."""
    query = (
        f"WorkflowType = 'PromotionWorkflow' AND StratgateTenant = '{tenant_id}' "
        "AND ExecutionStatus = 'Running'"
    )
    if started_before is not None:
        at = started_before.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        query += f" AND StartTime < '{at}'"
    return query


def halt_cancel_query(halt: TenantHalt) -> str:
    """The promotions a halt cancels: the tenant's, started before the halt (and its margin)."""
    return in_flight_query(halt.tenant_id, halt.halted_at + CANCEL_MARGIN)


def unfreeze_change(
    doc: StrategyDoc,
    halt: TenantHalt,
    *,
    policy_version: str | None,
    policy_hash: str | None,
    effective_at: datetime,
) -> StageChange | None:
    """The unfreeze of a strategy this halt froze (None: not frozen, or frozen by another
    cause, which keeps its own unfreeze path)."""
    if not doc.freeze or doc.freeze_reason != freeze_marker(halt.halt_id):
        return None
    return _fleet_change(
        doc,
        halt,
        "unfreeze",
        policy_version=policy_version,
        policy_hash=policy_hash,
        effective_at=effective_at,
        decision=Decision.UNFREEZE,
        to_stage=doc.lifecycle_stage,
        reason_code=RESUME_REASON,
        requested_by=halt.resumed_by or "unknown",
        requested_at=halt.resumed_at or effective_at,
        set_freeze=False,
        audit_details={
            "halt_id": halt.halt_id,
            "approved_by": [a.user for a in halt.approvals],
        },
    )


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


def resumed_event(halt: TenantHalt) -> AuditEvent:
    assert halt.resumed_at is not None
    return _event(
        halt,
        "tenant.resumed",
        fleet_id(halt.halt_id, "resumed"),
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


def unfrozen_event(halt: TenantHalt, count: int, skipped: int, at: datetime) -> AuditEvent:
    return _event(
        halt,
        "tenant.unfreeze_completed",
        fleet_id(halt.halt_id, "unfreeze-completed"),
        at,
        records=count,
        skipped=skipped,
    )
