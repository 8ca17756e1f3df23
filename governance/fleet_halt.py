"""A tenant-wide halt, the platform-wide one, and the governed resume (spec: "kill-switch
enabled (global): force strategies to non-executing posture").

The halt document (`tenants/{t}/fleet/halt`) is the one document the gate reads: while it is
active every strategy of the tenant is NO_EXECUTION, whatever its own state. The per-strategy
demotions that follow it are the record, not the control. A resume needs the approvals the
policy's `fleet_halt` names, each by a different person, none of them the one who halted.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from governance.errors import GovernanceError
from governance.records import Identifier, UtcDatetime
from governance.roles import Role
from governance.stages import LifecycleStage

Reason = Annotated[str, Field(min_length=3, max_length=500)]


class HaltStatus(StrEnum):
    ACTIVE = "active"
    LIFTED = "lifted"


class HaltPolicy(BaseModel):
    """What a halt does to every strategy, and who must approve the resume."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # The stage every strategy above it is demoted to; strategies at or below keep theirs.
    posture: LifecycleStage = LifecycleStage.SHADOW
    freeze: bool = True
    # A role listed twice needs two distinct people; the one who halted approves none.
    resume_roles: Annotated[list[Role], Field(min_length=1, max_length=8)] = [
        Role.RISK_APPROVER,
        Role.OPS_APPROVER,
    ]

    @model_validator(mode="after")
    def _approver_roles(self) -> HaltPolicy:
        if self.posture == LifecycleStage.LIVE:
            raise ValueError("posture: a halt posture must be below LIVE")
        if Role.DESIGNATED_PERSON in self.resume_roles:
            raise ValueError("resume_roles: 'designated_person' is a designation, not a role")
        return self


class ResumeApproval(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    halt_id: Identifier
    user: str
    role: Role
    approved_at: UtcDatetime
    comment: str = ""


class TenantHalt(BaseModel):
    """The tenant's halt document: the gate's one extra read."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    halt_id: Identifier
    tenant_id: Identifier
    halted_by: str
    via: str = "api_token"
    reason: Reason
    halted_at: UtcDatetime
    posture: LifecycleStage
    freeze: bool
    resume_roles: list[Role]
    status: HaltStatus = HaltStatus.ACTIVE
    # The tenant's halts are numbered by the store (1, 2, ...): two racing halts cannot both
    # take one number.
    sequence: Annotated[int, Field(ge=0)] = 0
    approvals: list[ResumeApproval] = Field(default_factory=list)
    # The approvals asked the strategies the halt froze to be unfrozen too.
    unfreeze: bool = False
    resumed_by: str | None = None
    resumed_at: UtcDatetime | None = None

    @property
    def active(self) -> bool:
        return self.status == HaltStatus.ACTIVE

    def describe(self) -> str:
        return f"halted by {self.halted_by} at {self.halted_at.isoformat()}: {self.reason}"


class GlobalHalt(BaseModel):
    """The platform-wide halt, kept in `systemStatus/config` beside `is_shadow_mode`."""

    model_config = ConfigDict(frozen=True)

    engaged: bool
    halted_by: str | None = None
    reason: str | None = None
    halted_at: UtcDatetime | None = None
    # The tenant of the admin who halted: its audit trail holds `platform.halted`.
    tenant_id: str | None = None

    def describe(self) -> str:
        at = f" at {self.halted_at.isoformat()}" if self.halted_at else ""
        return f"halted by {self.halted_by or 'unknown'}{at}: {self.reason or 'no reason given'}"


def halt_policy_of(fleet_halt: HaltPolicy | None) -> HaltPolicy:
    """A policy's `fleet_halt`, or the defaults when it names none (or there is no policy)."""
    return fleet_halt or HaltPolicy()


GLOBAL_FIELD = "execution_halted"
GLOBAL_DETAILS = "execution_halt"
GLOBAL_LIFT = "last_execution_halt_lift"


def global_halt_of(status: dict[str, Any] | None) -> GlobalHalt | None:
    """The platform switch as stored; None when it cannot be read (unknown: fails closed)."""
    if status is None:
        return None
    value = status.get(GLOBAL_FIELD, False)
    if not isinstance(value, bool):
        return None
    if not value:
        return GlobalHalt(engaged=False)
    return GlobalHalt(engaged=True, **halt_details(status.get(GLOBAL_DETAILS)))


def halt_details(details: object) -> dict[str, Any]:
    """Who halted, why, when and from which tenant, as `global_status` stored them; what
    cannot be read is left out (the switch itself is what closes the gates)."""
    if not isinstance(details, dict):
        return {}
    out = {k: details.get(k) for k in ("halted_by", "reason", "tenant_id")}
    out["halted_at"] = details.get("at")
    try:
        GlobalHalt(engaged=True, **out)
    except ValueError:
        return {}
    return out


def global_status(
    status: dict[str, Any],
    *,
    engaged: bool,
    by: str,
    reason: str,
    at: datetime,
    tenant_id: str | None = None,
) -> dict[str, Any]:
    """`systemStatus/config` with the platform switch set or cleared (other fields kept); a
    lift keeps the details of the halt it lifted."""
    details: dict[str, Any] = {
        "halted_by": by,
        "reason": reason,
        "at": at.isoformat(),
        "engaged": engaged,
        "tenant_id": tenant_id,
    }
    if not engaged:
        details["lifted"] = status.get(GLOBAL_DETAILS)
    key = GLOBAL_DETAILS if engaged else GLOBAL_LIFT
    return {**status, GLOBAL_FIELD: engaged, key: details}


# -- refusals -----------------------------------------------------------------------------
class TenantHalted(GovernanceError):
    """The tenant (or the platform) is halted: nothing is promoted until it is resumed."""

    code = "tenant_halted"


class AlreadyHalted(GovernanceError):
    code = "already_halted"


class NotHalted(GovernanceError):
    code = "not_halted"


class ResumeRefused(GovernanceError):
    code = "resume_refused"


def refuse_promotion(tenant: TenantHalt | None, platform: GlobalHalt | None) -> None:
    """Raise TenantHalted while either halt is active (what a commit and a request check)."""
    if platform is not None and platform.engaged:
        raise TenantHalted(
            f"the platform is halted ({platform.describe()}): promotions are refused",
            field="global_halt",
        )
    if tenant is not None and tenant.active:
        raise TenantHalted(
            f"tenant {tenant.tenant_id} is {tenant.describe()}: promotions are refused "
            "until it is resumed",
            field="tenant_halt",
        )


def new_halt(
    *,
    halt_id: str,
    tenant_id: str,
    by: str,
    via: str,
    reason: str,
    at: datetime,
    policy: HaltPolicy,
    current: TenantHalt | None,
) -> TenantHalt:
    """The halt to store; a second one while one is active is refused, naming the first."""
    if current is not None and current.active:
        raise AlreadyHalted(
            f"tenant {tenant_id} is already {current.describe()} (halt {current.halt_id}); "
            "nothing was written",
            field="tenant",
        )
    return TenantHalt(
        halt_id=halt_id,
        tenant_id=tenant_id,
        halted_by=by,
        via=via,
        reason=reason,
        halted_at=at,
        posture=policy.posture,
        freeze=policy.freeze,
        resume_roles=list(policy.resume_roles),
    )


class ResumeAsk(BaseModel):
    """An approval of a resume as asked: the store plans it against the halt as stored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant_id: Identifier
    user: str
    roles: list[Role]
    role: Role | None = None
    at: UtcDatetime
    unfreeze: bool = False
    comment: Annotated[str, Field(max_length=500)] = ""


class ResumeStep(BaseModel):
    """One approval of a resume and the halt document after it (lifted by the last one)."""

    model_config = ConfigDict(frozen=True)

    approval: ResumeApproval
    halt: TenantHalt

    @property
    def lifted(self) -> bool:
        return not self.halt.active


def missing_roles(halt: TenantHalt) -> list[Role]:
    left = Counter(halt.resume_roles)
    left.subtract(a.role for a in halt.approvals)
    return [role for role, n in left.items() for _ in range(max(n, 0))]


def plan_resume(halt: TenantHalt | None, ask: ResumeAsk) -> ResumeStep:
    """An approval of the resume by `ask.user` (who holds `ask.roles`), in `ask.role` or the
    first still missing one they hold. Refuses before anything is written."""
    user, roles, role, unfreeze = ask.user, ask.roles, ask.role, ask.unfreeze
    if halt is None or not halt.active:
        raise NotHalted("the tenant is not halted: there is nothing to resume", field="tenant")
    if user == halt.halted_by:
        raise ResumeRefused(
            f"{user} halted the tenant and may not approve its resume", field="user"
        )
    if any(a.user == user for a in halt.approvals):
        raise ResumeRefused(f"{user} has already approved this resume", field="user")
    if halt.approvals and unfreeze != halt.unfreeze:
        raise ResumeRefused(
            f"the resume was first approved with unfreeze={halt.unfreeze}; every approval "
            "asks the same",
            field="unfreeze",
        )
    missing = missing_roles(halt)
    wanted = [role] if role is not None else [r for r in missing if r in roles]
    chosen = next((r for r in wanted if r in missing and r in roles), None)
    if chosen is None:
        needed = ", ".join(missing)
        raise ResumeRefused(
            f"{user} holds none of the roles still needed for this resume ({needed})"
            if role is None
            else f"{role} is not a role {user} holds that this resume still needs ({needed})",
            field="role",
        )
    approval = ResumeApproval(
        halt_id=halt.halt_id, user=user, role=chosen, approved_at=ask.at, comment=ask.comment
    )
    after = halt.model_copy(update={"approvals": [*halt.approvals, approval], "unfreeze": unfreeze})
    if not missing_roles(after):
        after = after.model_copy(
            update={"status": HaltStatus.LIFTED, "resumed_by": user, "resumed_at": ask.at}
        )
    return ResumeStep(approval=approval, halt=after)
