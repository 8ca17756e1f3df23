"""The eligibility report for promoting a strategy to a stage, as approvers see it: the
workflow's own evaluation (its policy with the strategy's stage overrides, its evaluator, the
stored risk history) on the strategy's current evidence, at this moment. Read-only."""

from __future__ import annotations

import asyncio

from activities.contracts import EvaluateInput
from app.lookup import require_strategy
from app.ports import Ports
from governance.errors import InvalidTransition
from governance.identity import Principal, require_tenant
from governance.policy import effective_policy
from governance.report import EligibilityReport
from governance.stages import ORDER, LifecycleStage


async def eligibility_report(
    ports: Ports,
    who: Principal,
    *,
    tenant_id: str,
    uid: str,
    strategy_id: str,
    to: LifecycleStage,
) -> EligibilityReport:
    """Refuses an unknown tenant or strategy, and OBSERVE (nothing is promoted into it)."""
    require_tenant(who, tenant_id)
    doc = await require_strategy(ports, tenant_id, uid, strategy_id)
    if ORDER.index(to) == 0:
        raise InvalidTransition(f"{to} is the first stage: nothing is promoted into it", field="to")
    policy = await ports.store.get_policy(tenant_id)
    risk = await ports.store.list_risk_events(tenant_id, uid, strategy_id)
    inp = EvaluateInput(
        tenant_id=tenant_id,
        uid=uid,
        strategy_id=strategy_id,
        target_stage=to,
        stage_entered_at=doc.last_stage_change_at,
        policy=effective_policy(policy, doc.stage_overrides),
        now=ports.now(),
    )
    evaluations = ports.evaluator()
    # Reading and ranking millions of rows: off the event loop, as the workflow's activity is.
    return await asyncio.to_thread(
        lambda: evaluations.report(inp, evaluations.current(tenant_id, uid, strategy_id, risk))
    )
