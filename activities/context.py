"""Reading what a workflow needs to decide: strategy, policy, directory."""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from temporalio import activity

from activities.contracts import ApproverCheck, ApproverRef, StrategyContext, StrategyRef
from activities.errors import refusal
from activities.reconcile import reconcile_breaker
from governance.assertion import AssertionRefused, verify
from governance.errors import GovernanceError
from governance.policy import effective_policy
from governance.roles import Role
from store.port import GovernanceStore


class ContextActivities:
    def __init__(self, store: GovernanceStore, assertion_keys: list[Ed25519PublicKey]):
        self.store = store
        # The API's published public keys; with none, no human approval can count (closed).
        self.assertion_keys = assertion_keys

    @activity.defn(name="load_context")
    async def load_context(self, ref: StrategyRef) -> StrategyContext:
        strategy = await self.store.get_strategy(ref.tenant_id, ref.uid, ref.strategy_id)
        # A platform breaker's direct write is recorded as a demotion before anything is decided.
        strategy, breaker = await reconcile_breaker(self.store, strategy, datetime.now(UTC))
        tenant_policy = await self.store.get_policy(ref.tenant_id)
        policy, error = None, None
        if tenant_policy is not None:
            try:
                policy = effective_policy(
                    tenant_policy, strategy.stage_overrides if strategy else None
                )
            except GovernanceError as exc:
                # An unusable override fails closed like a missing policy, and says why.
                error = exc.message
        return StrategyContext(
            strategy=strategy,
            policy=policy,
            policy_error=error,
            breaker_record_id=breaker.record_id if breaker else None,
        )

    @activity.defn(name="approver_roles")
    async def approver_roles(self, ref: ApproverRef) -> list[Role] | None:
        return await self.store.get_approver_roles(ref.tenant_id, ref.user)

    @activity.defn(name="check_approver")
    async def check_approver(self, check: ApproverCheck) -> list[Role] | None:
        """The approver's current directory roles, once the API's signed assertion says that
        this very person approves this request, in this role, on this report."""
        try:
            verify(
                check.assertion, self.assertion_keys, expected=check.claim, now=datetime.now(UTC)
            )
        except AssertionRefused as exc:
            raise refusal(exc) from None
        return await self.store.get_approver_roles(check.claim.tenant_id, check.claim.person)
