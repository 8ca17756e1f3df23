"""Approval rules: who may sign which step, separation of duties, expiry."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from governance.errors import ApprovalRefused
from governance.policy import ApprovalRequirement, PromotionPolicy
from governance.records import Approval
from governance.roles import Role


def missing_roles(requirement: ApprovalRequirement, approvals: Sequence[Approval]) -> list[Role]:
    """Role slots still open, in the requirement's order (a role listed twice, twice), then
    `designated_person` while the requirement needs one and no approver holds it."""
    missing = open_slots(requirement, approvals)
    if designation_missing(requirement, approvals):
        missing.append(Role.DESIGNATED_PERSON)
    return missing


def open_slots(requirement: ApprovalRequirement, approvals: Sequence[Approval]) -> list[Role]:
    have = Counter(a.role for a in approvals)
    missing: list[Role] = []
    for role in requirement.roles:
        if have[role] > 0:
            have[role] -= 1
        else:
            missing.append(role)
    return missing


def designation_missing(requirement: ApprovalRequirement, approvals: Sequence[Approval]) -> bool:
    """Whether the requirement still needs an approver who holds `designated_person`."""
    return bool(requirement.designated_person_required) and not any(
        a.designated_person for a in approvals
    )


DESIGNATION_MISSING = "missing: designated person"


def is_complete(requirement: ApprovalRequirement, approvals: Sequence[Approval]) -> bool:
    return not missing_roles(requirement, approvals)


def split_expired(
    approvals: Iterable[Approval], now: datetime, ttl_seconds: int
) -> tuple[list[Approval], list[Approval]]:
    """(still valid, expired) approvals: a sign-off older than the policy's TTL no longer counts."""
    cutoff = now - timedelta(seconds=ttl_seconds)
    active: list[Approval] = []
    expired: list[Approval] = []
    for approval in approvals:
        (active if approval.approved_at > cutoff else expired).append(approval)
    return active, expired


def check_approval(
    *,
    requirement: ApprovalRequirement,
    approvals: Sequence[Approval],
    requested_by: str,
    approver: str,
    role: Role | str,
    directory_roles: Iterable[Role | str] | None,
    check_directory: bool = True,
) -> Role:
    """Refuse an approval that breaks a rule; returns the role it fills.

    `directory_roles` are the approver's roles in the tenant directory (None: unknown person).
    With `check_directory` False the directory is left to a later check against the current
    directory (a workflow's update validator cannot read it, and a copy would be stale).
    """
    role = _known_role(role)
    if check_directory:
        _in_directory(approver, role, directory_roles, "approved_by")
    if role not in requirement.roles:
        needed = ", ".join(dict.fromkeys(requirement.roles))
        raise ApprovalRefused(
            f"this transition does not need {role} (needs {needed})", field="role"
        )
    if approver == requested_by:
        raise ApprovalRefused(
            f"{approver} requested this promotion and cannot approve it", field="approved_by"
        )
    earlier = next((a for a in approvals if a.approved_by == approver), None)
    if earlier is not None:
        raise ApprovalRefused(
            f"{approver} already signed this request as {earlier.role}: one person fills one role",
            field="approved_by",
        )
    missing = open_slots(requirement, approvals)
    if role not in missing:
        raise ApprovalRefused(f"the {role} approval is already filled", field="role")
    if requirement.ordered and missing[0] != role:
        raise ApprovalRefused(
            f"approvals for this transition go in order: {missing[0]} signs before {role}",
            field="role",
        )
    if check_directory and len(missing) == 1 and designation_missing(requirement, approvals):
        # The last slot is the designated person's last chance: filled by anyone else, the
        # request could never complete.
        assert directory_roles is not None
        if Role.DESIGNATED_PERSON not in {Role(r) for r in directory_roles}:
            raise ApprovalRefused(
                f"{DESIGNATION_MISSING}: the last approval of this transition must come from a "
                f"person holding {Role.DESIGNATED_PERSON}, and {approver} does not",
                field="approved_by",
            )
    return role


def check_rejection(
    *,
    requirement: ApprovalRequirement,
    requested_by: str,
    rejector: str,
    role: Role | str,
    directory_roles: Iterable[Role | str] | None,
    check_directory: bool = True,
) -> Role:
    """Anyone holding a role this transition needs may reject, except the requester."""
    role = _known_role(role)
    if check_directory:
        _in_directory(rejector, role, directory_roles, "rejected_by")
    if role not in requirement.roles:
        raise ApprovalRefused(f"this transition does not need {role}", field="role")
    if rejector == requested_by:
        raise ApprovalRefused(
            f"{rejector} requested this promotion; cancel it instead", field="rejected_by"
        )
    return role


def _in_directory(
    person: str, role: Role, directory_roles: Iterable[Role | str] | None, field: str
) -> None:
    if directory_roles is None:
        raise ApprovalRefused(f"{person} is not in the tenant's approver directory", field=field)
    if role not in {Role(r) for r in directory_roles}:
        raise ApprovalRefused(f"{person} does not hold the role {role}", field="role")


def _known_role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise ApprovalRefused(f"unknown role {role!r} (known: {known})", field="role") from None


def next_wake(
    policy: PromotionPolicy, approvals: Sequence[Approval], now: datetime, until_deadline: timedelta
) -> timedelta:
    """When a request awaiting approvals next has something to do on its own: re-evaluate, an
    approval's TTL running out, or the deadline."""
    wake = min(until_deadline, timedelta(seconds=policy.evaluation_interval_seconds))
    ttl = timedelta(seconds=policy.approval_ttl_seconds)
    for approval in approvals:
        wake = min(wake, approval.approved_at + ttl - now)
    return max(wake, timedelta(milliseconds=1))
