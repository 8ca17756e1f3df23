"""The promotion workflow's refusals of a message, from governance's rules: an update is
refused (non-retryable) with the rule's code and field, and nothing of it is counted."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from governance import approvals as rules
    from governance.errors import GovernanceError
    from governance.promotion import PromotionInput
    from governance.roles import Role
    from workflows.promotion_calls import refuse
    from workflows.promotion_state import ApproveInput, PromotionState, RejectInput


def check_still_open(s: PromotionState) -> None:
    if s.phase.terminal:
        raise refuse(
            f"the request ended ({s.phase}: {s.status_reason}); nothing was counted",
            "request_ended",
        )


def check_approval(
    s: PromotionState,
    request: PromotionInput,
    inp: ApproveInput,
    roles: list[Role] | None,
    check_directory: bool = True,
) -> None:
    assert s.requirement is not None
    try:
        rules.check_approval(
            requirement=s.requirement,
            approvals=s.approvals,
            requested_by=request.requested_by,
            approver=inp.approver,
            role=inp.role,
            directory_roles=roles,
            check_directory=check_directory,
        )
    except GovernanceError as exc:
        raise refuse(exc.message, exc.code, exc.field) from None


def check_rejection(
    s: PromotionState,
    request: PromotionInput,
    inp: RejectInput,
    roles: list[Role] | None,
    check_directory: bool = True,
) -> None:
    assert s.requirement is not None
    try:
        rules.check_rejection(
            requirement=s.requirement,
            requested_by=request.requested_by,
            rejector=inp.user,
            role=inp.role,
            directory_roles=roles,
            check_directory=check_directory,
        )
    except GovernanceError as exc:
        raise refuse(exc.message, exc.code, exc.field) from None
