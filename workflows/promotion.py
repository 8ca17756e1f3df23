"""The promotion request: a durable workflow that cannot lose an approval.

VALIDATING -> WAITING_FOR_WINDOW -> AWAITING_APPROVALS -> FINAL_CHECK -> COMMITTED, or ends
REJECTED | CANCELLED | PREEMPTED | EXPIRED | INELIGIBLE. Every rule it applies is a
`governance` function; its state is one `PromotionState`; what it asks of the world is in
`promotion_calls`. This module only waits, asks and records.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from governance import approvals as rules
    from governance.errors import GovernanceError
    from governance.promotion import (
        Phase,
        PromotionInput,
        auto_approval_due,
        auto_approvals,
        changed_since_read,
        deadline,
        live_token_valid,
        may_cancel,
        needs_live_token,
        report_changed,
        stale_approvals,
        transition_of,
        validate_request,
    )
    from governance.promotion_builders import promotion_change
    from governance.records import Approval
    from governance.report import EligibilityReport, Verdict
    from governance.roles import Role
    from governance.stages import Decision, LifecycleStage
    from workflows import search_attributes as sa
    from workflows import summaries
    from workflows.promotion_calls import PromotionCalls, cause_of, refuse
    from workflows.promotion_checks import check_approval, check_rejection, check_still_open
    from workflows.promotion_state import (
        ApproveInput,
        CancelInput,
        PromotionOutcome,
        PromotionState,
        PromotionStatus,
        RejectInput,
    )

PREEMPT_REASON_MAX = 500


@workflow.defn(name="PromotionWorkflow")
class PromotionWorkflow:
    @workflow.init
    def __init__(self, request: PromotionInput) -> None:
        self.request = request
        self.state = PromotionState()
        self.calls = PromotionCalls(request)

    # -- main line ----------------------------------------------------------------------------
    @workflow.run
    async def run(self, request: PromotionInput) -> PromotionOutcome:
        s = self.state
        try:
            await self._validate()
            while not s.phase.terminal:
                if s.phase == Phase.WAITING_FOR_WINDOW:
                    await self._wait_for_window()
                elif s.phase == Phase.AWAITING_APPROVALS:
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
                # Handlers first: a save of theirs still in flight must not land after ours.
                await workflow.wait_condition(workflow.all_handlers_finished)
                await self.calls.save_request(s)
                break
            except (asyncio.CancelledError, ActivityError) as exc:
                if not is_cancelled_exception(exc):
                    raise
                # A cancel that arrives after the request ended changes nothing it decided;
                # the bookkeeping still completes.
                self._preempted()
        return s.outcome()

    def _preempted(self) -> None:
        if not self.state.phase.terminal:
            why = self.state.preempt_reason or "a demotion of this strategy cancelled the request"
            self._set_phase(Phase.PREEMPTED, f"preempted: {why}")

    async def _validate(self) -> None:
        s = self.state
        ctx = await self.calls.load_context()
        if ctx.strategy is not None:
            s.from_stage = ctx.strategy.lifecycle_stage
            s.expected_last_record_id = ctx.strategy.last_stage_change_record_id
            s.stage_entered_at = ctx.strategy.last_stage_change_at
        s.policy = ctx.policy
        try:
            s.requirement = validate_request(self.request, ctx.strategy, ctx.policy)
        except GovernanceError as exc:
            reason = ctx.policy_error or exc.message
            self._set_phase(Phase.INELIGIBLE, f"{exc.field or exc.code}: {reason}")
            return
        assert s.policy is not None and s.from_stage is not None
        s.deadline = deadline(self.request, s.policy)
        workflow.upsert_search_attributes([sa.FROM_STAGE.value_set(s.from_stage.value)])
        await self.calls.audit("strategy.promotion_requested", {"reason": self.request.reason})
        first = Phase.WAITING_FOR_WINDOW
        if transition_of(self.request, s.from_stage) is None:
            first = Phase.AWAITING_APPROVALS  # an unfreeze or a LIVE renewal measures no window
        self._set_phase(first)
        await self.calls.save_request(s)

    async def _wait_for_window(self) -> None:
        s = self.state
        assert s.policy is not None
        while True:
            if s.people_ended():
                return self._end_by_people()
            report = await self._evaluate()
            if report is None:
                pass
            elif report.verdict == Verdict.ELIGIBLE:
                self._set_phase(Phase.AWAITING_APPROVALS)
                await self.calls.save_request(s)
                return
            elif report.verdict == Verdict.INELIGIBLE:
                return self._set_phase(Phase.INELIGIBLE, "; ".join(report.reasons) or "ineligible")
            else:
                s.status_reason = "; ".join(report.reasons) or "stability window not complete"
            wait = min(
                self._until_deadline(), timedelta(seconds=s.policy.evaluation_interval_seconds)
            )
            if wait <= timedelta(0):
                return self._set_phase(Phase.EXPIRED, "request deadline passed while waiting")
            s.evidence_updated = False
            why = summaries.window_wait(s.report, wait)
            await self._wait(lambda: s.evidence_updated or s.people_ended(), wait, why)

    async def _collect_approvals(self) -> None:
        s = self.state
        assert s.policy is not None and s.requirement is not None
        transition = transition_of(self.request, s.from_stage or LifecycleStage.OBSERVE)
        if auto_approval_due(s.policy, transition, s.approvals):
            s.approvals = auto_approvals(s.requirement, workflow.now(), s.report_hash())
        while True:
            if s.people_ended():
                return self._end_by_people()
            await self._drop_expired()
            if rules.is_complete(s.requirement, s.approvals):
                return self._set_phase(Phase.FINAL_CHECK)
            until_deadline = self._until_deadline()
            if until_deadline <= timedelta(0):
                return self._set_phase(Phase.EXPIRED, "request deadline passed awaiting approvals")
            seen = s.changes
            wake = rules.next_wake(s.policy, s.approvals, workflow.now(), until_deadline)
            why = summaries.approvals_wait(rules.missing_roles(s.requirement, s.approvals), wake)
            await self._wait(lambda: s.changes != seen, wake, why)  # noqa: B023

    async def _final_check(self) -> None:
        s = self.state
        ctx = await self.calls.load_context()
        if ctx.breaker_record_id is not None:
            return self._set_phase(
                Phase.PREEMPTED,
                "a platform circuit breaker demoted the strategy (recorded as "
                f"{ctx.breaker_record_id}); nothing of this request was written",
            )
        changed = changed_since_read(
            self.request, ctx.strategy, s.from_stage, s.expected_last_record_id
        )
        if changed is not None:
            return self._set_phase(
                Phase.PREEMPTED,
                f"strategy changed since the request began ({changed}); nothing was written",
            )
        assert s.from_stage is not None
        measured = transition_of(self.request, s.from_stage) is not None
        if measured and not await self._still_eligible():
            return
        if needs_live_token(self.request) and not self._live_token_still_valid():
            return
        if s.requirement and rules.designation_missing(s.requirement, s.approvals):
            return self._set_phase(Phase.AWAITING_APPROVALS, rules.DESIGNATION_MISSING)
        await self._commit()

    async def _still_eligible(self) -> bool:
        s = self.state
        final = await self._evaluate()
        if final is None:
            self._set_phase(Phase.WAITING_FOR_WINDOW, s.status_reason)
            return False
        stale = stale_approvals(s.approvals, s.reports, final)
        if stale:
            s.stale = stale
            s.approvals = [a for a in s.approvals if a.approved_by not in stale]
            why = "; ".join(f"{who}: {reason}" for who, reason in stale.items())
            await self.calls.save_request(s)
        if final.verdict != Verdict.ELIGIBLE:
            reason = "; ".join(final.reasons) or f"verdict is {final.verdict}"
            self._set_phase(Phase.WAITING_FOR_WINDOW, f"final check: {reason}")
            return False
        if stale:
            self._set_phase(Phase.AWAITING_APPROVALS, f"stale approvals to collect again: {why}")
            return False
        return True

    def _live_token_still_valid(self) -> bool:
        s = self.state
        if live_token_valid(s.token_expiry, workflow.now()):
            return True
        finals = [a for a in s.approvals if a.role == Role.FINAL_AUTHORIZER]
        if finals:
            s.approvals.remove(finals[-1])
        self._set_phase(
            Phase.AWAITING_APPROVALS,
            "LIVE confirmation token expired: a final authorizer must approve again with a "
            "fresh token (stratgate live confirm)",
        )
        return False

    async def _commit(self) -> None:
        s = self.state
        assert s.policy is not None and s.from_stage is not None
        now = workflow.now()
        change = promotion_change(
            request=self.request,
            from_stage=s.from_stage,
            expected_last_record_id=s.expected_last_record_id,
            record_id=str(workflow.uuid4()),
            audit_event_id=str(workflow.uuid4()),
            policy_version=s.policy.policy_version,
            approvals=s.approvals,
            report=s.report if self.request.decision == Decision.PROMOTE else None,
            now=now,
            policy=s.policy,
            policy_hash=s.policy.policy_hash,
        )
        record, refused = await self.calls.commit(change)
        if refused is not None:
            return self._set_phase(Phase.PREEMPTED, f"commit refused: {refused}")
        if record is None:
            return self._set_phase(Phase.PREEMPTED, "preempted by a demotion during final check")
        s.record_id = record.record_id
        self._set_phase(Phase.COMMITTED, f"{record.decision} committed as record {s.record_id}")

    # -- steps shared by the phases -----------------------------------------------------------
    async def _evaluate(self) -> EligibilityReport | None:
        """The latest eligibility report, or None (and why, in status_reason) if unavailable."""
        s = self.state
        assert s.policy is not None
        try:
            report = await self.calls.evaluate(s.policy, s.stage_entered_at, s.from_stage)
        except ActivityError as exc:
            if is_cancelled_exception(exc):
                raise  # a preemption, not a failed evaluation
            s.status_reason = f"evidence evaluation failed: {cause_of(exc)}"
            return None
        s.remember(report)
        return report

    async def _drop_expired(self) -> None:
        s = self.state
        assert s.policy is not None
        active, expired = rules.split_expired(
            s.approvals, workflow.now(), s.policy.approval_ttl_seconds
        )
        if expired:
            s.approvals = active
            who = ", ".join(f"{a.approved_by} ({a.role})" for a in expired)
            s.status_reason = f"approvals expired after the policy's TTL: {who}"
            await self.calls.save_request(s)

    async def _wait(self, condition: Callable[[], bool], timeout: timedelta, summary: str) -> None:
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(condition, timeout=timeout, timeout_summary=summary)

    def _end_by_people(self) -> None:
        self._set_phase(*self.state.ended_by_people())

    def _until_deadline(self) -> timedelta:
        assert self.state.deadline is not None
        return self.state.deadline - workflow.now()

    def _set_phase(self, phase: Phase, reason: str | None = None) -> None:
        self.state.phase = phase
        if reason is not None:
            self.state.status_reason = reason
        workflow.upsert_search_attributes([sa.PHASE.value_set(phase.value)])
        workflow.set_current_details(summaries.phase_details(phase, self.state.status_reason))

    # -- messages -----------------------------------------------------------------------------
    @workflow.query
    def status(self) -> PromotionStatus:
        return self.state.status(self.request, workflow.info().workflow_id)

    @workflow.signal
    def evidence_updated(self) -> None:
        self.state.evidence_updated = True

    @workflow.signal
    def preempt_reason_is(self, reason: str) -> None:
        """Why the cancel that follows is sent (a cancel itself carries no reason)."""
        self.state.preempt_reason = reason[:PREEMPT_REASON_MAX]

    @workflow.update
    async def approve(self, inp: ApproveInput) -> PromotionStatus:
        s = self.state
        roles = await self.calls.check_approver(inp)
        check_still_open(self.state)
        check_approval(self.state, self.request, inp, roles)
        if needs_live_token(self.request) and inp.role == Role.FINAL_AUTHORIZER:
            token = await self.calls.redeem(inp.approver, inp.confirmation_token or "")
            s.token_expiry[inp.approver] = token.expires_at
        # Re-checked after the awaits: another approval may have filled the slot meanwhile,
        # or the request may have ended (an accepted update is then told so, and counts not).
        check_still_open(self.state)
        check_approval(self.state, self.request, inp, roles)
        s.approvals.append(
            Approval(
                role=inp.role,
                approved_by=inp.approver,
                approved_at=workflow.now(),
                comment=inp.comment,
                metrics_hash=inp.metrics_hash or s.report_hash(),
                designated_person=True if Role.DESIGNATED_PERSON in (roles or []) else None,
            )
        )
        s.stale.pop(inp.approver, None)
        s.changes += 1
        await self.calls.audit(
            "strategy.promotion_approved", {"role": inp.role, "by": inp.approver}
        )
        await self.calls.save_request(s)
        return self.status()

    @approve.validator
    def _validate_approve(self, inp: ApproveInput) -> None:
        s = self.state
        if s.phase != Phase.AWAITING_APPROVALS:
            raise refuse(f"the request is {s.phase}, not awaiting approvals", "wrong_phase")
        if report_changed(inp.metrics_hash, s.report):
            raise refuse(
                "the eligibility report changed since it was shown: review report "
                f"{s.report_hash()} and approve with its hash",
                "report_changed",
                "metrics_hash",
            )
        if (
            needs_live_token(self.request)
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
        check_approval(self.state, self.request, inp, None, check_directory=False)

    @workflow.update
    async def reject(self, inp: RejectInput) -> PromotionStatus:
        s = self.state
        roles = await self.calls.roles_of(inp.user)
        check_still_open(self.state)
        check_rejection(self.state, self.request, inp, roles)
        s.rejection = f"rejected by {inp.user} ({inp.role}): {inp.comment}".rstrip(": ")
        s.changes += 1
        await self.calls.audit(
            "strategy.promotion_rejected", {"by": inp.user, "comment": inp.comment}
        )
        return self.status()

    @reject.validator
    def _validate_reject(self, inp: RejectInput) -> None:
        phase = self.state.phase
        if phase not in (Phase.WAITING_FOR_WINDOW, Phase.AWAITING_APPROVALS):
            raise refuse(f"the request is {phase}: it can no longer be rejected", "wrong_phase")
        check_rejection(self.state, self.request, inp, None, check_directory=False)

    @workflow.update
    async def cancel(self, inp: CancelInput) -> PromotionStatus:
        s = self.state
        roles = await self.calls.roles_of(inp.user)
        check_still_open(self.state)
        if not may_cancel(self.request, inp.user, roles):
            raise refuse(
                f"only the requester or a tenant admin may cancel; {inp.user} is neither",
                "cancel_refused",
                "user",
            )
        s.cancellation = f"cancelled by {inp.user}: {inp.reason}".rstrip(": ")
        s.changes += 1
        return self.status()

    @cancel.validator
    def _validate_cancel(self, inp: CancelInput) -> None:
        phase = self.state.phase
        if phase.terminal or phase == Phase.FINAL_CHECK:
            raise refuse(f"the request is {phase}: it can no longer be cancelled", "wrong_phase")
        # Whether a non-requester is a tenant admin is the handler's check, on the current
        # directory.
