"""The promotion request: a durable workflow that cannot lose an approval.

VALIDATING -> WAITING_FOR_WINDOW -> AWAITING_APPROVALS -> FINAL_CHECK -> COMMITTED, or ends
REJECTED | CANCELLED | PREEMPTED | EXPIRED | INELIGIBLE. Every rule it applies is a
`governance` function; this module only waits, asks and records.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from activities.commit import CommitActivities
    from activities.context import ContextActivities
    from governance import approvals as rules
    from governance.errors import GovernanceError
    from governance.live import enablement_until
    from governance.promotion import (
        Phase,
        PromotionInput,
        auto_approvals,
        deadline,
        may_cancel,
        stale_approvals,
        transition_of,
        validate_request,
    )
    from governance.promotion_builders import promotion_change
    from governance.records import Approval, PromotionRecord
    from governance.report import Verdict
    from governance.roles import Role
    from governance.stages import Decision, LifecycleStage
    from workflows import search_attributes as sa
    from workflows.options import QUICK, SAFETY_COMMIT
    from workflows.promotion_state import (
        ApproveInput,
        CancelInput,
        PromotionOutcome,
        PromotionStatus,
        RejectInput,
    )
    from workflows.promotion_steps import PromotionSteps, cause_of, refuse


PREEMPT_REASON_MAX = 500


@workflow.defn(name="PromotionWorkflow")
class PromotionWorkflow(PromotionSteps):
    @workflow.init
    def __init__(self, request: PromotionInput) -> None:
        super().__init__(request)

    # -- main line ----------------------------------------------------------------------------
    @workflow.run
    async def run(self, request: PromotionInput) -> PromotionOutcome:
        try:
            await self._validate()
            while not self.phase.terminal:
                if self.phase == Phase.WAITING_FOR_WINDOW:
                    await self._wait_for_window()
                elif self.phase == Phase.AWAITING_APPROVALS:
                    await self._collect_approvals()
                else:
                    await self._final_check()
        except (asyncio.CancelledError, ActivityError) as exc:
            # A cancel surfaces where the workflow waits: in a timer or condition as
            # CancelledError, in an activity as an ActivityError caused by it. Either way the
            # request ends in a defined phase; anything else is a bug and fails loudly.
            if not is_cancelled_exception(exc):
                raise
            self._preempted()
        while True:
            try:
                await self._save_request()
                await workflow.wait_condition(workflow.all_handlers_finished)
                break
            except (asyncio.CancelledError, ActivityError) as exc:
                if not is_cancelled_exception(exc):
                    raise
                # A cancel that arrives after the request ended changes nothing it decided;
                # the bookkeeping still completes.
                self._preempted()
        return PromotionOutcome(
            phase=self.phase, status_reason=self.status_reason, record_id=self.record_id
        )

    def _preempted(self) -> None:
        if not self.phase.terminal:
            why = self.preempt_reason or "a demotion of this strategy cancelled the request"
            self._set_phase(Phase.PREEMPTED, f"preempted: {why}")

    async def _validate(self) -> None:
        ctx = await workflow.execute_activity_method(
            ContextActivities.load_context, self._ref(), **QUICK
        )
        if ctx.strategy is not None:
            self.from_stage = ctx.strategy.lifecycle_stage
            self.expected_last_record_id = ctx.strategy.last_stage_change_record_id
            self.stage_entered_at = ctx.strategy.last_stage_change_at
        self.policy = ctx.policy
        try:
            self.requirement = validate_request(self.request, ctx.strategy, ctx.policy)
        except GovernanceError as exc:
            reason = ctx.policy_error or exc.message
            self._set_phase(Phase.INELIGIBLE, f"{exc.field or exc.code}: {reason}")
            return
        assert self.policy is not None and self.from_stage is not None
        self.deadline = deadline(self.request, self.policy)
        workflow.upsert_search_attributes([sa.FROM_STAGE.value_set(self.from_stage.value)])
        await self._audit("strategy.promotion_requested", {"reason": self.request.reason})
        first = Phase.WAITING_FOR_WINDOW
        if transition_of(self.request, self.from_stage) is None:
            first = Phase.AWAITING_APPROVALS  # an unfreeze or a LIVE renewal measures no window
        self._set_phase(first)
        await self._save_request()

    async def _wait_for_window(self) -> None:
        assert self.policy is not None
        while True:
            if self.cancellation or self.rejection:
                return self._end_by_people()
            report = await self._evaluate()
            if report is None:
                pass
            elif report.verdict == Verdict.ELIGIBLE:
                self._set_phase(Phase.AWAITING_APPROVALS)
                await self._save_request()
                return
            elif report.verdict == Verdict.INELIGIBLE:
                return self._set_phase(Phase.INELIGIBLE, "; ".join(report.reasons) or "ineligible")
            else:
                self.status_reason = "; ".join(report.reasons) or "stability window not complete"
            wait = min(
                self._until_deadline(), timedelta(seconds=self.policy.evaluation_interval_seconds)
            )
            if wait <= timedelta(0):
                return self._set_phase(Phase.EXPIRED, "request deadline passed while waiting")
            self.evidence_flag = False
            await self._wait(lambda: self.evidence_flag or self._people_ended(), wait)

    async def _collect_approvals(self) -> None:
        assert self.policy is not None and self.requirement is not None
        transition = transition_of(self.request, self.from_stage or LifecycleStage.OBSERVE)
        if transition and self.policy.auto_approves(transition) and not self.approvals:
            self.approvals = auto_approvals(self.requirement, workflow.now(), self._report_hash())
        while True:
            if self._people_ended():
                return self._end_by_people()
            await self._drop_expired()
            if rules.is_complete(self.requirement, self.approvals):
                return self._set_phase(Phase.FINAL_CHECK)
            until_deadline = self._until_deadline()
            if until_deadline <= timedelta(0):
                return self._set_phase(Phase.EXPIRED, "request deadline passed awaiting approvals")
            seen = self.changes
            await self._wait(lambda: self.changes != seen, self._next_wake(until_deadline))  # noqa: B023

    async def _final_check(self) -> None:
        ctx = await workflow.execute_activity_method(
            ContextActivities.load_context, self._ref(), **QUICK
        )
        strategy = ctx.strategy
        if ctx.breaker_record_id is not None:
            return self._set_phase(
                Phase.PREEMPTED,
                "a platform circuit breaker demoted the strategy (recorded as "
                f"{ctx.breaker_record_id}); nothing of this request was written",
            )
        if (
            strategy is None
            or strategy.lifecycle_stage != self.from_stage
            or strategy.last_stage_change_record_id != self.expected_last_record_id
            or (self.request.decision == Decision.PROMOTE and strategy.freeze)
        ):
            return self._set_phase(
                Phase.PREEMPTED, "strategy changed since the request began; nothing was written"
            )
        measured = transition_of(self.request, self.from_stage) is not None
        if measured and not await self._still_eligible():
            return
        if self._needs_live_token() and not self._valid_live_token():
            return
        await self._commit()

    async def _still_eligible(self) -> bool:
        final = await self._evaluate()
        if final is None:
            self._set_phase(Phase.WAITING_FOR_WINDOW, self.status_reason)
            return False
        stale = stale_approvals(self.approvals, self.reports, final)
        if stale:
            self.stale = stale
            self.approvals = [a for a in self.approvals if a.approved_by not in stale]
            why = "; ".join(f"{who}: {reason}" for who, reason in stale.items())
            await self._save_request()
        if final.verdict != Verdict.ELIGIBLE:
            reason = "; ".join(final.reasons) or f"verdict is {final.verdict}"
            self._set_phase(Phase.WAITING_FOR_WINDOW, f"final check: {reason}")
            return False
        if stale:
            self._set_phase(Phase.AWAITING_APPROVALS, f"stale approvals to collect again: {why}")
            return False
        return True

    def _needs_live_token(self) -> bool:
        return (
            self.request.to_stage == LifecycleStage.LIVE
            and self.request.decision == Decision.PROMOTE
        )

    def _valid_live_token(self) -> bool:
        now = workflow.now()
        if any(expiry > now for expiry in self.token_expiry.values()):
            return True
        finals = [a for a in self.approvals if a.role == Role.FINAL_AUTHORIZER]
        if finals:
            self.approvals.remove(finals[-1])
        self._set_phase(
            Phase.AWAITING_APPROVALS,
            "LIVE confirmation token expired: a final authorizer must approve again with a "
            "fresh token (stratgate live confirm)",
        )
        return False

    async def _commit(self) -> None:
        assert self.policy is not None and self.from_stage is not None
        now = workflow.now()
        live_until = None
        if self._needs_live_token():
            live_until = enablement_until(now, self.policy.live_controls.enablement_seconds)
        change = promotion_change(
            request=self.request,
            from_stage=self.from_stage,
            expected_last_record_id=self.expected_last_record_id,
            record_id=str(workflow.uuid4()),
            audit_event_id=str(workflow.uuid4()),
            policy_version=self.policy.policy_version,
            approvals=self.approvals,
            report=self.report if self.request.decision == Decision.PROMOTE else None,
            now=now,
            live_enabled_until=live_until,
        )
        commit = workflow.start_activity_method(
            CommitActivities.commit_stage_change, change, **SAFETY_COMMIT
        )
        record: PromotionRecord | None
        try:
            # Shielded: if a demotion cancels us mid-commit we still learn whether it landed.
            record = await asyncio.shield(commit)
        except asyncio.CancelledError:
            record = await self._commit_outcome(commit)
        except ActivityError as exc:
            return self._set_phase(Phase.PREEMPTED, f"commit refused: {cause_of(exc)}")
        if record is None:
            return self._set_phase(Phase.PREEMPTED, "preempted by a demotion during final check")
        self.record_id = record.record_id
        self._set_phase(
            Phase.COMMITTED, f"{record.decision} committed as record {record.record_id}"
        )

    async def _commit_outcome(
        self, commit: workflow.ActivityHandle[PromotionRecord]
    ) -> PromotionRecord | None:
        try:
            return await commit
        except ActivityError:
            return None

    # -- messages -----------------------------------------------------------------------------
    @workflow.query
    def status(self) -> PromotionStatus:
        return PromotionStatus(
            request_id=self.request.request_id,
            workflow_id=workflow.info().workflow_id,
            tenant_id=self.request.tenant_id,
            uid=self.request.uid,
            strategy_id=self.request.strategy_id,
            decision=self.request.decision,
            from_stage=self.from_stage,
            to_stage=self.request.to_stage,
            phase=self.phase,
            status_reason=self.status_reason,
            requested_by=self.request.requested_by,
            requested_at=self.request.requested_at,
            reason=self.request.reason,
            deadline=self.deadline,
            policy_version=self.policy.policy_version if self.policy else None,
            report=self.report,
            approvals=self.approvals,
            missing_roles=rules.missing_roles(self.requirement, self.approvals)
            if self.requirement
            else [],
            stale_approvals=self.stale,
            record_id=self.record_id,
        )

    @workflow.signal
    def evidence_updated(self) -> None:
        self.evidence_flag = True

    @workflow.signal
    def preempt_reason_is(self, reason: str) -> None:
        """Why the cancel that follows is sent (a cancel itself carries no reason)."""
        self.preempt_reason = reason[:PREEMPT_REASON_MAX]

    @workflow.update
    async def approve(self, inp: ApproveInput) -> PromotionStatus:
        roles = await self._roles_of(inp.approver)
        self._check_still_open()
        self._check_approval(inp, roles)
        if self._needs_live_token() and inp.role == Role.FINAL_AUTHORIZER:
            await self._redeem(inp)
        # Re-checked after the awaits: another approval may have filled the slot meanwhile,
        # or the request may have ended (an accepted update is then told so, and counts not).
        self._check_still_open()
        self._check_approval(inp, roles)
        self.approvals.append(
            Approval(
                role=inp.role,
                approved_by=inp.approver,
                approved_at=workflow.now(),
                comment=inp.comment,
                metrics_hash=inp.metrics_hash or self._report_hash(),
            )
        )
        self.stale.pop(inp.approver, None)
        self.changes += 1
        await self._audit("strategy.promotion_approved", {"role": inp.role, "by": inp.approver})
        await self._save_request()
        return self.status()

    @approve.validator
    def _validate_approve(self, inp: ApproveInput) -> None:
        if self.phase != Phase.AWAITING_APPROVALS:
            raise refuse(f"the request is {self.phase}, not awaiting approvals", "wrong_phase")
        if self.report is not None and inp.metrics_hash != self.report.metrics_hash:
            raise refuse(
                "the eligibility report changed since it was shown: review report "
                f"{self.report.metrics_hash} and approve with its hash",
                "report_changed",
                "metrics_hash",
            )
        if (
            self._needs_live_token()
            and inp.role == Role.FINAL_AUTHORIZER
            and not inp.confirmation_token
        ):
            raise refuse(
                "a final authorizer approves PAPER -> LIVE with a confirmation token "
                "(stratgate live confirm)",
                "confirmation_token_required",
                "confirmation_token",
            )
        # The directory is checked by the handler, against the current one: a person added a
        # moment ago is not refused on a stale copy.
        self._check_approval(inp, None, check_directory=False)

    @workflow.update
    async def reject(self, inp: RejectInput) -> PromotionStatus:
        roles = await self._roles_of(inp.user)
        self._check_still_open()
        self._check_rejection(inp, roles)
        self.rejection = f"rejected by {inp.user} ({inp.role}): {inp.comment}".rstrip(": ")
        self.changes += 1
        await self._audit("strategy.promotion_rejected", {"by": inp.user, "comment": inp.comment})
        return self.status()

    @reject.validator
    def _validate_reject(self, inp: RejectInput) -> None:
        if self.phase not in (Phase.WAITING_FOR_WINDOW, Phase.AWAITING_APPROVALS):
            raise refuse(
                f"the request is {self.phase}: it can no longer be rejected", "wrong_phase"
            )
        self._check_rejection(inp, None, check_directory=False)

    @workflow.update
    async def cancel(self, inp: CancelInput) -> PromotionStatus:
        roles = await self._roles_of(inp.user)
        self._check_still_open()
        if not may_cancel(self.request, inp.user, roles):
            raise refuse(
                f"only the requester or a tenant admin may cancel; {inp.user} is neither",
                "cancel_refused",
                "user",
            )
        self.cancellation = f"cancelled by {inp.user}: {inp.reason}".rstrip(": ")
        self.changes += 1
        return self.status()

    @cancel.validator
    def _validate_cancel(self, inp: CancelInput) -> None:
        if self.phase.terminal or self.phase == Phase.FINAL_CHECK:
            raise refuse(
                f"the request is {self.phase}: it can no longer be cancelled", "wrong_phase"
            )
        # Whether a non-requester is a tenant admin is the handler's check, on the current
        # directory.
