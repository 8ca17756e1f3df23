"""Every decision a test commits must replay equal: `records explain` on each of its records."""

from __future__ import annotations

from pathlib import Path

from activities.evidence_evaluator import EvidenceEvaluator
from app.explain import explain_record
from app.ports import Ports
from governance.identity import Principal, TokenKind
from governance.replay import needs_evaluation
from store.port import GovernanceStore


async def assert_records_replay(store: GovernanceStore, tenant: str, evidence: Path) -> int:
    """Explain every record of `tenant` that was decided on a report; returns how many."""
    ports = Ports(
        store=store, client=None, task_queue="replay", evaluations=EvidenceEvaluator(evidence)
    )
    who = Principal(tenant_id=tenant, subject="replay-check", kind=TokenKind.PERSONAL)
    replayed, problems = 0, []
    for record in await store.list_records(tenant):
        found = await explain_record(ports, who, tenant_id=tenant, record_id=record.record_id)
        if not needs_evaluation(record):
            assert found.no_evaluation == f"no evaluation: decided by {record.reason_code}"
            continue
        replayed += 1
        if not found.equal:
            unequal = [c.name for c in found.criteria if not c.equal]
            problems.append(
                f"record {record.record_id} ({record.from_stage} -> {record.to_stage}) does not "
                f"replay equal: criteria {unequal}, metrics_hash "
                f"{found.metrics_hash} vs {found.recomputed_metrics_hash}, {found.problems}"
            )
    assert not problems, "\n".join(problems)
    return replayed
