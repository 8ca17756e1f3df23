"""The stage changes a tenant halt (and a resume that unfreezes) makes, one per strategy, and
what a batch of them commits (its events are `governance.fleet_events`).

Ids derive from the halt id and the strategy, so a retried chunk names the very same records
and a store commits each once (governance.stage_change.same_commit).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError

from governance.errors import GovernanceError
from governance.fleet_halt import (
    TenantHalt,
    TenantHalted,
    global_halt_of,
    refuse_promotion,
)
from governance.policy import PromotionPolicy
from governance.records import (
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


class PlanChange(Protocol):
    """`halt_change` or `unfreeze_change`: one strategy's change, or None (nothing to do)."""

    def __call__(
        self,
        doc: StrategyDoc,
        halt: TenantHalt,
        *,
        policy_version: str | None,
        policy_hash: str | None,
        effective_at: datetime,
    ) -> StageChange | None: ...


def halt_changes(
    docs: list[StrategyDoc],
    halt: TenantHalt,
    policy: PromotionPolicy | None,
    effective_at: datetime,
    runtime: RuntimeFingerprint | None = None,
) -> list[StageChange]:
    """The halt's change of each strategy of a page that needs one."""
    return page_changes(halt_change, docs, halt, policy, effective_at, runtime)


def unfreeze_changes(
    docs: list[StrategyDoc],
    halt: TenantHalt,
    policy: PromotionPolicy | None,
    effective_at: datetime,
    runtime: RuntimeFingerprint | None = None,
) -> list[StageChange]:
    """The resume's unfreeze of each strategy of a page that this halt froze."""
    return page_changes(unfreeze_change, docs, halt, policy, effective_at, runtime)


def page_changes(
    plan: PlanChange,
    docs: list[StrategyDoc],
    halt: TenantHalt,
    policy: PromotionPolicy | None,
    effective_at: datetime,
    runtime: RuntimeFingerprint | None = None,
) -> list[StageChange]:
    out = []
    for doc in docs:
        change = plan(
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
