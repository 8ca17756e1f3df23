"""What the promotion workflow asks of the world: every activity it calls, in one place.

The workflow (promotion.py) decides when; these only call, with the request's identity and the
options each call needs, and turn activity failures into the workflow's refusals.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from activities.commit import CommitActivities
    from activities.context import ContextActivities
    from activities.contracts import (
        ApproverCheck,
        ApproverRef,
        EvaluateInput,
        RedeemInput,
        StrategyContext,
        StrategyRef,
    )
    from activities.eligibility import EligibilityActivities
    from governance.assertion import ApprovalClaim
    from governance.live import ConfirmationToken
    from governance.policy import PromotionPolicy
    from governance.promotion import REQUEST_STATUS, PromotionInput, promotion_workflow_id
    from governance.promotion_builders import request_doc
    from governance.records import AuditEvent, PromotionRecord, PromotionRequest, RequestStatus
    from governance.report import EligibilityReport
    from governance.roles import Role
    from governance.stage_change import StageChange
    from governance.stages import LifecycleStage
    from workflows import summaries
    from workflows.options import EVALUATE, QUICK, SAFETY_COMMIT
    from workflows.promotion_state import ApproveInput, PromotionState


def refuse(message: str, code: str, field: str | None = None) -> ApplicationError:
    """An update refusal: non-retryable, so it fails the update and never the workflow task."""
    return ApplicationError(message, {"code": code, "field": field}, type=code, non_retryable=True)


def cause_of(exc: ActivityError) -> str:
    cause = exc.cause
    return str(cause.message if isinstance(cause, ApplicationError) else cause or exc)


class PromotionCalls:
    def __init__(self, request: PromotionInput):
        self.request = request

    def ref(self) -> StrategyRef:
        r = self.request
        return StrategyRef(tenant_id=r.tenant_id, uid=r.uid, strategy_id=r.strategy_id)

    async def load_context(self) -> StrategyContext:
        return await workflow.execute_activity_method(
            ContextActivities.load_context,
            self.ref(),
            summary=summaries.load_context(self.request),
            **QUICK,
        )

    async def evaluate(
        self,
        policy: PromotionPolicy,
        stage_entered_at: datetime | None,
        from_stage: LifecycleStage | None,
    ) -> EligibilityReport:
        r = self.request
        return await workflow.execute_activity_method(
            EligibilityActivities.evaluate_eligibility,
            EvaluateInput(
                tenant_id=r.tenant_id,
                uid=r.uid,
                strategy_id=r.strategy_id,
                target_stage=r.to_stage,
                stage_entered_at=stage_entered_at,
                policy=policy,
                now=workflow.now(),
            ),
            summary=summaries.evaluate(r, from_stage),
            **EVALUATE,
        )

    async def roles_of(self, user: str) -> list[Role] | None:
        """The person's roles in the current directory (None: not in it)."""
        try:
            return await workflow.execute_activity_method(
                ContextActivities.approver_roles,
                ApproverRef(tenant_id=self.request.tenant_id, user=user),
                summary=summaries.roles_of(user),
                **QUICK,
            )
        except ActivityError as exc:
            if is_cancelled_exception(exc):
                raise refuse("the request ended while this was checked", "request_ended") from None
            raise refuse(
                f"approver directory unavailable: {cause_of(exc)}", "unavailable"
            ) from None

    async def check_approver(self, inp: ApproveInput) -> list[Role] | None:
        """The approver's current roles, once the API's assertion for this approval verifies."""
        claim = ApprovalClaim(
            request_id=self.request.request_id,
            role=inp.role,
            person=inp.approver,
            metrics_hash=inp.metrics_hash,
            issued_at=inp.assertion.claim.issued_at if inp.assertion else workflow.now(),
            tenant_id=self.request.tenant_id,
        )
        try:
            return await workflow.execute_activity_method(
                ContextActivities.check_approver,
                ApproverCheck(claim=claim, assertion=inp.assertion),
                summary=summaries.check_approver(inp.approver, inp.role),
                **QUICK,
            )
        except ActivityError as exc:
            if is_cancelled_exception(exc):
                raise refuse("the request ended while this was checked", "request_ended") from None
            code = getattr(exc.cause, "type", None) or "unavailable"
            if code != "assertion_refused":
                raise refuse(
                    f"approver directory unavailable: {cause_of(exc)}", "unavailable"
                ) from None
            raise refuse(cause_of(exc), code, "assertion") from None

    async def redeem(self, user: str, token: str) -> ConfirmationToken:
        try:
            return await workflow.execute_activity_method(
                CommitActivities.redeem_confirmation_token,
                RedeemInput(
                    tenant_id=self.request.tenant_id,
                    request_id=self.request.request_id,
                    user=user,
                    token=token,
                    now=workflow.now(),
                ),
                summary=summaries.redeem(user),
                **QUICK,
            )
        except ActivityError as exc:
            raise refuse(
                cause_of(exc), "confirmation_token_refused", "confirmation_token"
            ) from None

    async def commit(self, change: StageChange) -> tuple[PromotionRecord | None, str | None]:
        """The record the commit wrote, or (None, why it was refused), or (None, None) when a
        demotion preempted it. Shielded: if a demotion cancels the workflow mid-commit, it still
        learns whether the commit landed."""
        commit = workflow.start_activity_method(
            CommitActivities.commit_stage_change,
            change,
            summary=summaries.commit(change),
            **SAFETY_COMMIT,
        )
        try:
            return await asyncio.shield(commit), None
        except asyncio.CancelledError:
            try:
                return await commit, None
            except ActivityError:
                return None, None
        except ActivityError as exc:
            return None, cause_of(exc)

    async def save_request(self, state: PromotionState) -> None:
        r = self.request
        doc: PromotionRequest = request_doc(
            r,
            from_stage=state.from_stage,
            status=REQUEST_STATUS.get(state.phase, RequestStatus.PENDING),
            status_reason=state.status_reason,
            approvals=state.approvals,
            report=state.report,
            workflow_id=promotion_workflow_id(r.tenant_id, r.uid, r.strategy_id),
            record_id=state.record_id,
            now=workflow.now(),
        )
        await workflow.execute_activity_method(
            CommitActivities.save_request,
            doc,
            summary=summaries.save_request(state.phase),
            **QUICK,
        )

    async def audit(self, event_type: str, details: dict[str, object]) -> None:
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
        await workflow.execute_activity_method(
            CommitActivities.append_audit_event,
            event,
            summary=summaries.audit(event_type),
            **QUICK,
        )
