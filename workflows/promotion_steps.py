"""State and helper steps of the promotion workflow (the workflow class is in promotion.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from activities.commit import CommitActivities
    from activities.context import ContextActivities
    from activities.contracts import ApproverRef, EvaluateInput, RedeemInput, StrategyRef
    from activities.eligibility import EligibilityActivities
    from governance import approvals as rules
    from governance.errors import GovernanceError
    from governance.policy import ApprovalRequirement, PromotionPolicy
    from governance.promotion import (
        REQUEST_STATUS,
        Phase,
        PromotionInput,
        promotion_workflow_id,
    )
    from governance.promotion_builders import request_doc
    from governance.records import Approval, AuditEvent, PromotionRequest, RequestStatus
    from governance.report import EligibilityReport
    from governance.roles import Role
    from governance.stages import LifecycleStage
    from workflows import search_attributes as sa
    from workflows.options import EVALUATE, QUICK
    from workflows.promotion_state import ApproveInput, RejectInput


def refuse(message: str, code: str, field: str | None = None) -> ApplicationError:
    """An update refusal: non-retryable, so it fails the update and never the workflow task."""
    return ApplicationError(message, {"code": code, "field": field}, type=code, non_retryable=True)


def cause_of(exc: ActivityError) -> str:
    cause = exc.cause
    return str(cause.message if isinstance(cause, ApplicationError) else cause or exc)


class PromotionSteps:
    def __init__(self, request: PromotionInput) -> None:
        self.request = request
        self.phase = Phase.VALIDATING
        self.status_reason: str | None = None
        self.from_stage: LifecycleStage | None = None
        self.expected_last_record_id: str | None = None
        self.stage_entered_at: datetime | None = None
        self.policy: PromotionPolicy | None = None
        self.requirement: ApprovalRequirement | None = None
        self.approvals: list[Approval] = []
        self.reports: dict[str, EligibilityReport] = {}
        self.report: EligibilityReport | None = None
        self.stale: dict[str, str] = {}
        self.token_expiry: dict[str, datetime] = {}
        self.deadline: datetime | None = None
        self.record_id: str | None = None
        self.evidence_flag = False
        self.preempt_reason: str | None = None  # what the preempting risk event said
        self.changes = 0
        self.rejection: str | None = None
        self.cancellation: str | None = None

    # -- helpers ------------------------------------------------------------------------------
    def _check_still_open(self) -> None:
        if self.phase.terminal:
            raise refuse(
                f"the request ended ({self.phase}: {self.status_reason}); nothing was counted",
                "request_ended",
            )

    def _check_approval(
        self, inp: ApproveInput, roles: list[Role] | None, check_directory: bool = True
    ) -> None:
        assert self.requirement is not None
        try:
            rules.check_approval(
                requirement=self.requirement,
                approvals=self.approvals,
                requested_by=self.request.requested_by,
                approver=inp.approver,
                role=inp.role,
                directory_roles=roles,
                check_directory=check_directory,
            )
        except GovernanceError as exc:
            raise refuse(exc.message, exc.code, exc.field) from None

    def _check_rejection(
        self, inp: RejectInput, roles: list[Role] | None, check_directory: bool = True
    ) -> None:
        assert self.requirement is not None
        try:
            rules.check_rejection(
                requirement=self.requirement,
                requested_by=self.request.requested_by,
                rejector=inp.user,
                role=inp.role,
                directory_roles=roles,
                check_directory=check_directory,
            )
        except GovernanceError as exc:
            raise refuse(exc.message, exc.code, exc.field) from None

    async def _roles_of(self, user: str) -> list[Role] | None:
        try:
            roles = await workflow.execute_activity_method(
                ContextActivities.approver_roles,
                ApproverRef(tenant_id=self.request.tenant_id, user=user),
                **QUICK,
            )
        except ActivityError as exc:
            if is_cancelled_exception(exc):
                raise refuse("the request ended while this was checked", "request_ended") from None
            raise refuse(
                f"approver directory unavailable: {cause_of(exc)}", "unavailable"
            ) from None
        return roles

    async def _redeem(self, inp: ApproveInput) -> None:
        try:
            token = await workflow.execute_activity_method(
                CommitActivities.redeem_confirmation_token,
                RedeemInput(
                    tenant_id=self.request.tenant_id,
                    request_id=self.request.request_id,
                    user=inp.approver,
                    token=inp.confirmation_token or "",
                    now=workflow.now(),
                ),
                **QUICK,
            )
        except ActivityError as exc:
            raise refuse(
                cause_of(exc), "confirmation_token_refused", "confirmation_token"
            ) from None
        self.token_expiry[inp.approver] = token.expires_at

    async def _drop_expired(self) -> None:
        assert self.policy is not None
        active, expired = rules.split_expired(
            self.approvals, workflow.now(), self.policy.approval_ttl_seconds
        )
        if expired:
            self.approvals = active
            who = ", ".join(f"{a.approved_by} ({a.role})" for a in expired)
            self.status_reason = f"approvals expired after the policy's TTL: {who}"
            await self._save_request()

    def _next_wake(self, until_deadline: timedelta) -> timedelta:
        assert self.policy is not None
        wake = min(until_deadline, timedelta(seconds=self.policy.evaluation_interval_seconds))
        ttl = timedelta(seconds=self.policy.approval_ttl_seconds)
        for approval in self.approvals:
            wake = min(wake, approval.approved_at + ttl - workflow.now())
        return max(wake, timedelta(milliseconds=1))

    async def _evaluate(self) -> EligibilityReport | None:
        """The latest eligibility report, or None (and why, in status_reason) if unavailable."""
        assert self.policy is not None
        try:
            report = await self._run_evaluation()
        except ActivityError as exc:
            if is_cancelled_exception(exc):
                raise  # a preemption, not a failed evaluation
            self.status_reason = f"evidence evaluation failed: {cause_of(exc)}"
            return None
        self.reports[report.metrics_hash] = report
        self.report = report
        return report

    async def _run_evaluation(self) -> EligibilityReport:
        assert self.policy is not None
        return await workflow.execute_activity_method(
            EligibilityActivities.evaluate_eligibility,
            EvaluateInput(
                tenant_id=self.request.tenant_id,
                uid=self.request.uid,
                strategy_id=self.request.strategy_id,
                target_stage=self.request.to_stage,
                stage_entered_at=self.stage_entered_at,
                policy=self.policy,
                now=workflow.now(),
            ),
            **EVALUATE,
        )

    async def _wait(self, condition: Callable[[], bool], timeout: timedelta) -> None:
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(condition, timeout=timeout)

    def _people_ended(self) -> bool:
        return bool(self.cancellation or self.rejection)

    def _end_by_people(self) -> None:
        if self.rejection:
            self._set_phase(Phase.REJECTED, self.rejection)
        else:
            self._set_phase(Phase.CANCELLED, self.cancellation)

    def _until_deadline(self) -> timedelta:
        assert self.deadline is not None
        return self.deadline - workflow.now()

    def _report_hash(self) -> str | None:
        return self.report.metrics_hash if self.report else None

    def _set_phase(self, phase: Phase, reason: str | None = None) -> None:
        self.phase = phase
        if reason is not None:
            self.status_reason = reason
        workflow.upsert_search_attributes([sa.PHASE.value_set(phase.value)])

    def _ref(self) -> StrategyRef:
        r = self.request
        return StrategyRef(tenant_id=r.tenant_id, uid=r.uid, strategy_id=r.strategy_id)

    async def _save_request(self) -> None:
        status = REQUEST_STATUS.get(self.phase, RequestStatus.PENDING)
        doc: PromotionRequest = request_doc(
            self.request,
            from_stage=self.from_stage,
            status=status,
            status_reason=self.status_reason,
            approvals=self.approvals,
            report=self.report,
            workflow_id=promotion_workflow_id(
                self.request.tenant_id, self.request.uid, self.request.strategy_id
            ),
            record_id=self.record_id,
            now=workflow.now(),
        )
        await workflow.execute_activity_method(CommitActivities.save_request, doc, **QUICK)

    async def _audit(self, event_type: str, details: dict[str, object]) -> None:
        r = self.request
        event = AuditEvent(
            event_id=str(workflow.uuid4()),
            event_type=event_type,
            ts=workflow.now(),
            tenant_id=r.tenant_id,
            uid=r.uid,
            strategy_id=r.strategy_id,
            correlation_id=r.correlation_id or r.request_id,
            details={"request_id": r.request_id, "to_stage": r.to_stage, **details},
        )
        await workflow.execute_activity_method(CommitActivities.append_audit_event, event, **QUICK)
