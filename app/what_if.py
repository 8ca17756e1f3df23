"""Policy what-if: evaluate a candidate policy without publishing it (read-only).

Against every registered strategy's current evidence (its next transition, at this moment,
under the current policy and under the candidate, stage overrides merged as the workflow does)
and against every past decision's cited evidence and recorded window (as `records explain`
replays it, without hashing the files again). Reports are built by the workflow's own
evaluation code; nothing is written.
"""

from __future__ import annotations

import asyncio
from typing import Any

from activities.contracts import EvaluateInput
from app.evaluations import Evaluations
from app.ports import Ports
from governance.errors import GovernanceError
from governance.identity import Principal, require_person, require_tenant
from governance.policy import PromotionPolicy, effective_policy, parse_policy
from governance.records import PromotionRecord, StrategyDoc
from governance.replay import cited_risk_events, needs_evaluation, replay_window
from governance.report import EligibilityReport
from governance.risk_events import StoredRiskEvent
from governance.stages import ORDER, LifecycleStage
from governance.what_if import (
    RecordWhatIf,
    StrategyWhatIf,
    WhatIf,
    record_what_if,
    strategy_what_if,
)


async def policy_what_if(
    ports: Ports, who: Principal, *, tenant_id: str, candidate: dict[str, Any]
) -> WhatIf:
    """Refuses a candidate that fails validation, naming the field (PolicyInvalid)."""
    require_tenant(who, tenant_id)
    require_person(who)
    policy = parse_policy(candidate)
    store, evaluations = ports.store, ports.evaluator()
    current = await store.get_policy(tenant_id)
    docs = [d for d in await store.list_strategies(tenant_id, None) if d.tenant_id == tenant_id]
    now = ports.now()
    strategies = []
    for doc in docs:
        risk = await store.list_risk_events(tenant_id, doc.uid, doc.strategy_id)
        strategies.append(
            await asyncio.to_thread(_strategy, evaluations, doc, current, policy, risk, now)
        )
    overrides = {(d.uid, d.strategy_id): d.stage_overrides for d in docs}
    records = []
    for record in await store.list_records(tenant_id):
        if not needs_evaluation(record):
            continue
        assert record.metrics_snapshot.metrics_hash is not None
        recorded = await store.get_evaluation_report(
            tenant_id, record.metrics_snapshot.metrics_hash
        )
        risk = await store.list_risk_events(tenant_id, record.uid, record.strategy_id)
        ov = overrides.get((record.uid, record.strategy_id))
        records.append(
            await asyncio.to_thread(_record, evaluations, record, recorded, policy, ov, risk)
        )
    return WhatIf(
        tenant_id=tenant_id,
        current_version=current.policy_version if current else None,
        candidate_version=policy.policy_version,
        strategies=strategies,
        records=records,
    )


def _strategy(
    evaluations: Evaluations,
    doc: StrategyDoc,
    current: PromotionPolicy | None,
    candidate: PromotionPolicy,
    risk: list[StoredRiskEvent],
    now: Any,
) -> StrategyWhatIf:
    at = ORDER.index(doc.lifecycle_stage)
    if at + 1 >= len(ORDER):
        return strategy_what_if(doc, None, None, None, note=f"{doc.lifecycle_stage}: no next stage")
    target = ORDER[at + 1]
    bundle = evaluations.current(doc.tenant_id, doc.uid, doc.strategy_id, risk)

    def report(policy: PromotionPolicy | None) -> EligibilityReport | None:
        if policy is None:
            return None
        inp = EvaluateInput(
            tenant_id=doc.tenant_id,
            uid=doc.uid,
            strategy_id=doc.strategy_id,
            target_stage=target,
            stage_entered_at=doc.last_stage_change_at,
            policy=effective_policy(policy, doc.stage_overrides),
            now=now,
        )
        return evaluations.report(inp, bundle)

    try:
        after = report(candidate)
    except GovernanceError as exc:
        return strategy_what_if(doc, target, None, None, note=f"candidate: {exc.message}")
    try:
        before = report(current)
    except GovernanceError as exc:
        return strategy_what_if(doc, target, None, after, note=f"current policy: {exc.message}")
    return strategy_what_if(doc, target, before, after)


def _record(
    evaluations: Evaluations,
    record: PromotionRecord,
    recorded: EligibilityReport | None,
    candidate: PromotionPolicy,
    overrides: dict[str, Any] | None,
    stored_risk: list[StoredRiskEvent],
) -> RecordWhatIf:
    entered, end = replay_window(record, recorded)
    risk, problem = cited_risk_events(stored_risk, record.evidence_refs, end)
    bundle, files = evaluations.cited(
        record.tenant_id, record.uid, record.strategy_id, record.evidence_refs, risk, verify=False
    )
    notes = [f"{f.kind} {f.id}: {f.status}" for f in files if not f.usable]
    notes += [problem] if problem else []
    try:
        policy = effective_policy(candidate, overrides)
    except GovernanceError as exc:
        return record_what_if(record, recorded, None, note=f"candidate: {exc.message}")
    target: LifecycleStage = record.to_stage
    inp = EvaluateInput(
        tenant_id=record.tenant_id,
        uid=record.uid,
        strategy_id=record.strategy_id,
        target_stage=target,
        stage_entered_at=entered,
        policy=policy,
        now=end,
    )
    report = evaluations.report(inp, bundle)
    return record_what_if(record, recorded, report, note="; ".join(notes) or None)
