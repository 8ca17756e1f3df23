"""Governed policy changes: a new version is proposed with a reason, shown as a diff against the
current one, and published only once enough policy approvers, none of them the proposer, have
approved it. A change that weakens LIVE controls (`governance/policy_diff.py`) needs two.

Both store adapters call `plan_decision` inside the one transaction that applies a decision, so
the rules (who may approve, when a proposal is closed or stale) exist once, and a refusal is
decided before anything is written.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from governance.bounds import COMMENT_MAX, REASON_MAX
from governance.errors import GovernanceError
from governance.policy import PromotionPolicy, default_policy
from governance.policy_chain import chain_version, content, link_hash, unstamped
from governance.policy_diff import PolicyDiff, diff_policies
from governance.records import AuditEvent, Identifier, Severity, UtcDatetime
from governance.refusals import RefusalCode
from governance.roles import Role

LIVE_WEAKENING_APPROVALS = 2


class PolicyChangeRefused(GovernanceError):
    def __init__(self, code: RefusalCode, message: str, field: str = "proposal_id"):
        super().__init__(message, field=field, code=code.value)


class ProposalStatus(StrEnum):
    PENDING = "pending"
    PUBLISHED = "published"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class ProposalAction(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    WITHDRAW = "withdraw"


Reason = Annotated[str, Field(min_length=3, max_length=REASON_MAX)]
Comment = Annotated[str, Field(max_length=COMMENT_MAX)]


class PolicyApproval(BaseModel):
    """One policy approver's sign-off: stored create-only, one per person and proposal."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    approved_by: Identifier
    approved_at: UtcDatetime
    comment: Comment = ""


class PolicyProposal(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    proposal_id: Identifier
    tenant_id: Identifier
    policy: PromotionPolicy  # as proposed: the store stamps author, time and hashes on publish
    reason: Reason
    proposed_by: Identifier
    proposed_at: UtcDatetime
    # What it was proposed against: approving it once the current version moved is refused.
    base_policy_version: str | None
    base_policy_hash: str | None
    diff: PolicyDiff
    required_approvals: Annotated[int, Field(ge=1)]
    status: ProposalStatus = ProposalStatus.PENDING
    approvals: list[PolicyApproval] = Field(default_factory=list)
    closed_by: str | None = None
    closed_at: UtcDatetime | None = None
    close_reason: str | None = None
    published_policy_hash: str | None = None

    @property
    def missing_approvals(self) -> int:
        return max(0, self.required_approvals - len(self.approvals))


def required_approvals(diff: PolicyDiff) -> int:
    return LIVE_WEAKENING_APPROVALS if diff.live_weakenings else 1


def base_hash(current: PromotionPolicy | None) -> str | None:
    return link_hash(current) if current is not None else None


def _event(
    event_id: str, event_type: str, at: datetime, tenant_id: str, details: dict[str, object]
) -> AuditEvent:
    weakening = bool(details.get("weakens_live"))
    return AuditEvent(
        event_id=event_id,
        event_type=event_type,
        severity=Severity.WARNING if weakening else Severity.INFO,
        ts=at,
        tenant_id=tenant_id,
        correlation_id=str(details["proposal_id"]),
        details=details,
    )


def _says(policy: PromotionPolicy) -> dict[str, object]:
    said = content(policy)
    said.pop("policy_version", None)
    return said


def new_proposal(
    *,
    proposal_id: str,
    tenant_id: str,
    policy: PromotionPolicy,
    reason: str,
    by: str,
    at: datetime,
    current: PromotionPolicy | None,
    published_versions: set[str],
    event_id: str,
) -> tuple[PolicyProposal, AuditEvent]:
    """The proposal of `policy` against the `current` version, and its audit event."""
    proposed = unstamped(policy)
    if proposed.policy_version in published_versions:
        raise PolicyChangeRefused(
            RefusalCode.POLICY_VERSION_EXISTS,
            f"policy_version {proposed.policy_version} is already published for {tenant_id}: "
            "propose changes under a new version",
            field="policy_version",
        )
    if current is not None and _says(current) == _says(proposed):
        raise PolicyChangeRefused(
            RefusalCode.INVALID_POLICY,
            f"{proposed.policy_version} changes nothing against {current.policy_version}",
            field="policy",
        )
    diff = diff_policies(current, proposed, default_policy(proposed.policy_version))
    proposal = PolicyProposal(
        proposal_id=proposal_id,
        tenant_id=tenant_id,
        policy=proposed,
        reason=reason,
        proposed_by=by,
        proposed_at=at,
        base_policy_version=current.policy_version if current else None,
        base_policy_hash=base_hash(current),
        diff=diff,
        required_approvals=required_approvals(diff),
    )
    event = _event(
        event_id,
        "policy.proposed",
        at,
        tenant_id,
        {
            "proposal_id": proposal_id,
            "policy_version": proposed.policy_version,
            "base_policy_version": proposal.base_policy_version,
            "base_policy_hash": proposal.base_policy_hash,
            "proposed_by": by,
            "reason": reason,
            "changes": len(diff.changes),
            "weakens_live": [c.path for c in diff.live_weakenings],
            "required_approvals": proposal.required_approvals,
        },
    )
    return proposal, event


class ProposalDecision(BaseModel):
    """What one person decided on a proposal; the store plans it inside its transaction."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant_id: Identifier
    proposal_id: Identifier
    action: ProposalAction
    by: Identifier
    roles: list[Role]  # the person's roles in the tenant's approver directory
    at: UtcDatetime
    comment: Comment = ""
    # Ids for the audit events this decision may write (an approval that publishes writes two).
    event_ids: Annotated[list[Identifier], Field(min_length=2, max_length=2)]


class DecisionPlan(BaseModel):
    """Every write of one decision, decided before any is made: create `approval` (if any),
    replace the proposal document with `proposal`, create `publish` as the next version and
    make it current (if any), and append the audit events; all in one atomic step."""

    model_config = ConfigDict(frozen=True)

    proposal: PolicyProposal
    approval: PolicyApproval | None = None
    publish: PromotionPolicy | None = None
    audit_events: list[AuditEvent]


def _refuse_unless_open(proposal: PolicyProposal) -> None:
    if proposal.status != ProposalStatus.PENDING:
        by = f" by {proposal.closed_by}" if proposal.closed_by else ""
        raise PolicyChangeRefused(
            RefusalCode.POLICY_PROPOSAL_CLOSED,
            f"proposal {proposal.proposal_id} is {proposal.status.value}{by}: nothing to decide",
        )


def plan_decision(
    decision: ProposalDecision,
    *,
    proposal: PolicyProposal | None,
    current: PromotionPolicy | None,
    last_version: PromotionPolicy | None,
    published_versions: set[str],
) -> DecisionPlan:
    """The writes of `decision` given what the store holds now: the proposal with its approvals,
    the current policy, the last version of the chain and the names of every version."""
    if proposal is None or proposal.tenant_id != decision.tenant_id:
        raise PolicyChangeRefused(
            RefusalCode.NOT_FOUND,
            f"no policy proposal {decision.proposal_id} for tenant {decision.tenant_id}",
        )
    _refuse_unless_open(proposal)
    if decision.action == ProposalAction.WITHDRAW:
        return _close(decision, proposal, ProposalStatus.WITHDRAWN)
    if decision.action == ProposalAction.APPROVE and decision.by == proposal.proposed_by:
        raise PolicyChangeRefused(
            RefusalCode.POLICY_SELF_APPROVAL,
            f"{decision.by} proposed {proposal.proposal_id}: another person must approve it",
            field="approved_by",
        )
    if Role.POLICY_APPROVER not in decision.roles:
        raise PolicyChangeRefused(
            RefusalCode.POLICY_ROLE_REQUIRED,
            f"{decision.by} does not hold the policy_approver role in {decision.tenant_id}",
            field="role",
        )
    if decision.action == ProposalAction.REJECT:
        return _close(decision, proposal, ProposalStatus.REJECTED)
    return _approve(decision, proposal, current, last_version, published_versions)


def _approve(
    decision: ProposalDecision,
    proposal: PolicyProposal,
    current: PromotionPolicy | None,
    last_version: PromotionPolicy | None,
    published_versions: set[str],
) -> DecisionPlan:
    if any(a.approved_by == decision.by for a in proposal.approvals):
        raise PolicyChangeRefused(
            RefusalCode.POLICY_DUPLICATE_APPROVAL,
            f"{decision.by} already approved {proposal.proposal_id}: a LIVE weakening needs "
            f"{proposal.required_approvals} distinct policy approvers",
            field="approved_by",
        )
    if base_hash(current) != proposal.base_policy_hash:
        now = current.policy_version if current else "none"
        raise PolicyChangeRefused(
            RefusalCode.POLICY_PROPOSAL_STALE,
            f"proposal {proposal.proposal_id} was made against "
            f"{proposal.base_policy_version or 'no policy'}; the current version is now {now}: "
            "propose again against it",
        )
    if proposal.policy.policy_version in published_versions:
        raise PolicyChangeRefused(
            RefusalCode.POLICY_VERSION_EXISTS,
            f"policy_version {proposal.policy.policy_version} is already published",
            field="policy_version",
        )
    approval = PolicyApproval(
        approved_by=decision.by, approved_at=decision.at, comment=decision.comment
    )
    approvals = [*proposal.approvals, approval]
    weakens = [c.path for c in proposal.diff.live_weakenings]
    approved = _event(
        decision.event_ids[0],
        "policy.approved",
        decision.at,
        decision.tenant_id,
        {
            "proposal_id": proposal.proposal_id,
            "policy_version": proposal.policy.policy_version,
            "approved_by": decision.by,
            "approvals": len(approvals),
            "required_approvals": proposal.required_approvals,
            "comment": decision.comment,
            "weakens_live": weakens,
        },
    )
    if len(approvals) < proposal.required_approvals:
        return DecisionPlan(
            proposal=proposal.model_copy(update={"approvals": approvals}),
            approval=approval,
            audit_events=[approved],
        )
    stamped = proposal.policy.model_copy(
        update={
            "updated_at": decision.at,
            "updated_by": proposal.proposed_by,
            "proposal_id": proposal.proposal_id,
        }
    )
    version = chain_version(stamped, last_version)
    published = _event(
        decision.event_ids[1],
        "policy.published",
        decision.at,
        decision.tenant_id,
        {
            "proposal_id": proposal.proposal_id,
            "policy_version": version.policy_version,
            "policy_hash": version.policy_hash,
            "prev_policy_hash": version.prev_policy_hash,
            "base_policy_version": proposal.base_policy_version,
            "proposed_by": proposal.proposed_by,
            "approved_by": [a.approved_by for a in approvals],
            "reason": proposal.reason,
            "weakens_live": weakens,
        },
    )
    closed = proposal.model_copy(
        update={
            "approvals": approvals,
            "status": ProposalStatus.PUBLISHED,
            "closed_by": decision.by,
            "closed_at": decision.at,
            "published_policy_hash": version.policy_hash,
        }
    )
    return DecisionPlan(
        proposal=closed, approval=approval, publish=version, audit_events=[approved, published]
    )


def _close(
    decision: ProposalDecision, proposal: PolicyProposal, status: ProposalStatus
) -> DecisionPlan:
    if status == ProposalStatus.WITHDRAWN and decision.by != proposal.proposed_by:
        raise PolicyChangeRefused(
            RefusalCode.FORBIDDEN,
            f"only {proposal.proposed_by}, who proposed it, may withdraw {proposal.proposal_id}; "
            "a policy approver rejects it instead",
            field="authorization",
        )
    closed = proposal.model_copy(
        update={
            "status": status,
            "closed_by": decision.by,
            "closed_at": decision.at,
            "close_reason": decision.comment or None,
        }
    )
    event = _event(
        decision.event_ids[0],
        f"policy.{status.value}",
        decision.at,
        decision.tenant_id,
        {
            "proposal_id": proposal.proposal_id,
            "policy_version": proposal.policy.policy_version,
            "by": decision.by,
            "reason": decision.comment,
        },
    )
    return DecisionPlan(proposal=closed, audit_events=[event])


def bootstrap_refused(tenant_id: str) -> PolicyChangeRefused:
    return PolicyChangeRefused(
        RefusalCode.POLICY_APPROVAL_REQUIRED,
        f"{tenant_id} already has a policy: a new version is proposed "
        "(stratgate policy propose) and approved by policy approvers",
        field="policy",
    )


def bootstrap_version(policy: PromotionPolicy, *, by: str, at: datetime) -> PromotionPolicy:
    """A tenant's first version, chained as such (the store refuses it if one exists)."""
    stamped = unstamped(policy).model_copy(update={"updated_at": at, "updated_by": by})
    return chain_version(stamped, None)


def bootstrap_event(
    *, event_id: str, tenant_id: str, version: PromotionPolicy, by: str, at: datetime
) -> AuditEvent:
    """The audit entry of a tenant's first policy, published by a local operator at once: with
    no policy every promotion is refused, so there is nothing yet to weaken."""
    return AuditEvent(
        event_id=event_id,
        event_type="policy.bootstrapped",
        ts=at,
        tenant_id=tenant_id,
        details={
            "policy_version": version.policy_version,
            "policy_hash": version.policy_hash,
            "by": by,
            "bootstrap": True,
        },
    )
