"""Decision replay: recompute a record's eligibility report from what it cites, and compare.

The evidence is the record's by id and hash (each file checked; one missing or altered is named
with why), the policy is the version the record cites (from the tenant's stored versions, with
the strategy's stage overrides merged as the workflow does), the window is the recorded one,
and the report is built by the workflow's own evaluation code (activities.evidence_evaluator).
"""

from __future__ import annotations

import asyncio
import re

from activities.contracts import EvaluateInput
from app.ports import Ports
from governance.errors import GovernanceError
from governance.identity import Principal, require_person, require_tenant
from governance.policy import effective_policy
from governance.records import PromotionRecord
from governance.refusals import RefusalCode
from governance.replay import (
    Explanation,
    FileStatus,
    cited_risk_events,
    compare,
    needs_evaluation,
    not_evaluated,
    replay_window,
    unreplayable,
)

# A record id as records hold them (governance.records.Identifier).
RECORD_ID = re.compile(r"[A-Za-z0-9_.@:\-]{1,200}")


async def explain_record(
    ports: Ports, who: Principal, *, tenant_id: str, record_id: str
) -> Explanation:
    require_tenant(who, tenant_id)
    require_person(who)
    if not RECORD_ID.fullmatch(record_id):
        raise GovernanceError(
            "record_id: 1-200 letters, digits and . _ @ : -",
            field="record_id",
            code=RefusalCode.INVALID_REQUEST.value,
        )
    record = await ports.store.get_record(tenant_id, record_id)
    if record is None or record.tenant_id != tenant_id:
        raise GovernanceError(
            f"no record {record_id} in {tenant_id}",
            field="record_id",
            code=RefusalCode.NOT_FOUND.value,
        )
    if not needs_evaluation(record):
        return not_evaluated(record)
    return await replay(ports, record)


async def replay(ports: Ports, record: PromotionRecord) -> Explanation:
    store, t = ports.store, record.tenant_id
    evaluations = ports.evaluator()
    assert record.metrics_snapshot.metrics_hash is not None
    recorded = await store.get_evaluation_report(t, record.metrics_snapshot.metrics_hash)
    versions = await store.list_policy_versions(t)
    policy = next((p for p in versions if p.policy_version == record.policy_version), None)
    doc = await store.get_strategy(t, record.uid, record.strategy_id)
    stored_risk = await store.list_risk_events(t, record.uid, record.strategy_id)
    entered, end = replay_window(record, recorded)
    risk, risk_problem = cited_risk_events(stored_risk, record.evidence_refs, end)
    problems = [risk_problem] if risk_problem else []
    bundle, files = await asyncio.to_thread(
        evaluations.cited, t, record.uid, record.strategy_id, record.evidence_refs, risk
    )
    problems[:0] = [
        f"{f.kind} {f.id}: {f.status}: {f.reason}"
        for f in files
        if f.status in (FileStatus.MISSING, FileStatus.ALTERED)
    ]
    if policy is None:
        problems.append(f"policy_version {record.policy_version} is not among the tenant's")
        return unreplayable(record, files, problems, policy_found=False)
    try:
        effective = effective_policy(policy, doc.stage_overrides if doc else None)
    except GovernanceError as exc:
        problems.append(f"stage_overrides: {exc.message}; the tenant policy alone was used")
        effective = policy
    inp = EvaluateInput(
        tenant_id=t,
        uid=record.uid,
        strategy_id=record.strategy_id,
        target_stage=record.to_stage,
        stage_entered_at=entered,
        policy=effective,
        now=end,
    )
    report = await asyncio.to_thread(evaluations.report, inp, bundle)
    return compare(record, recorded=recorded, recomputed=report, files=files, problems=problems)
