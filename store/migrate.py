"""Copy a tenant's governance history from one store to another, then prove it arrived intact.

API tokens are not copied: they are credentials of one deployment, and are issued anew on the
target (`stratgate tokens issue`). Evaluation reports that records or approvals cite are copied,
so every decision can still be recomputed and shown, and so is each strategy's risk history.

Records are not copied as documents: each strategy's chain is replayed through the target's own
`commit_stage_change` with every field of the original, so the target rebuilds byte-identical
records (same hashes, same chain slots) under its own invariants. Each record hash is then
compared with the source and every chain verified.
"""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel

from governance.chain import verify_chain
from governance.errors import GovernanceError
from governance.records import AuditEvent, PromotionRecord, Severity, StrategyDoc
from governance.stage_change import StageChange
from store.port import GovernanceStore


class MigrationReport(BaseModel):
    tenant_id: str
    policy_versions: int = 0
    approvers: int = 0
    strategies: int = 0
    records: int = 0
    audit_events: int = 0
    risk_events: int = 0
    requests: int = 0
    evaluation_reports: int = 0
    verified: bool = False


class MigrationFailed(GovernanceError):
    code = "migration_failed"


def _initial(doc: StrategyDoc, first: PromotionRecord | None) -> StrategyDoc:
    """The strategy as it was registered, before its first record."""
    if first is None:
        return doc
    return doc.model_copy(
        update={
            "lifecycle_stage": first.from_stage,
            "execution_mode": doc.execution_mode,
            "last_stage_change_record_id": None,
            "last_record_hash": None,
            "chain_length": 0,
            "freeze": False,
            "freeze_reason": None,
            "live_enabled_until": None,
            "shadow_mode_reason": None,
            "shadow_mode_activated_at": None,
        }
    )


def _replay(record: PromotionRecord, before: StrategyDoc, event: AuditEvent | None) -> StageChange:
    return StageChange(
        tenant_id=record.tenant_id,
        uid=record.uid,
        strategy_id=record.strategy_id,
        record_id=record.record_id,
        audit_event_id=event.event_id if event else f"{record.record_id}-audit",
        decision=record.decision,
        expected_from_stage=before.lifecycle_stage,
        expected_last_record_id=before.last_stage_change_record_id,
        to_stage=record.to_stage,
        reason_code=record.reason_code,
        policy_version=record.policy_version,
        policy_hash=record.policy_hash,
        requested_by=record.requested_by,
        requested_at=record.requested_at,
        effective_at=record.effective_at,
        approved_by=record.approved_by,
        metrics_snapshot=record.metrics_snapshot,
        evidence_refs=record.evidence_refs,
        runtime_fingerprint=record.runtime_fingerprint,
        set_freeze=record.freeze,
        freeze_reason=record.freeze_reason,
        live_enabled_until=record.live_enabled_until,
        request_id=record.request_id,
        correlation_id=record.correlation_id,
        severity=event.severity if event else Severity.INFO,
        audit_details=dict(event.details) if event else {},
    )


async def migrate(
    source: GovernanceStore, target: GovernanceStore, tenant_id: str
) -> MigrationReport:
    report = MigrationReport(tenant_id=tenant_id)
    for policy in await source.list_policy_versions(tenant_id):
        await target.put_policy(tenant_id, policy)
        report.policy_versions += 1
    for user, roles in (await source.list_approvers(tenant_id)).items():
        await target.put_approver(tenant_id, user, roles)
        report.approvers += 1
    cited: set[str] = set()
    for request in await source.list_requests(tenant_id):
        await target.put_request(request)
        cited |= {a.metrics_hash for a in request.approvals if a.metrics_hash}
        report.requests += 1
    events = await source.list_audit_events(tenant_id)
    by_record = {
        e.details.get("promotion_record_id"): e
        for e in events
        if e.event_type.startswith("strategy.")
    }
    chains: dict[tuple[str, str], list[PromotionRecord]] = defaultdict(list)
    for record in await source.list_records(tenant_id):
        chains[(record.uid, record.strategy_id)].append(record)
        if record.metrics_snapshot and record.metrics_snapshot.metrics_hash:
            cited.add(record.metrics_snapshot.metrics_hash)
    report.evaluation_reports = await _copy_reports(source, target, tenant_id, cited)
    for doc in await source.list_strategies(tenant_id):
        chain = chains.get((doc.uid, doc.strategy_id), [])
        state = await target.register_strategy(_initial(doc, chain[0] if chain else None))
        for record in chain:
            copied = await target.commit_stage_change(
                _replay(record, state, by_record.get(record.record_id))
            )
            if copied.record_hash != record.record_hash:
                raise MigrationFailed(
                    f"record {record.record_id} changed in transit", field=record.record_id
                )
            after = await target.get_strategy(tenant_id, doc.uid, doc.strategy_id)
            assert after is not None
            state = after
            report.records += 1
        for risk in await source.list_risk_events(tenant_id, doc.uid, doc.strategy_id):
            await target.record_risk_event(risk)
            report.risk_events += 1
        report.strategies += 1
    for event in events:
        await target.append_audit_event(event)  # the commits' own events are identical no-ops
    report.audit_events = len(await target.list_audit_events(tenant_id))
    for (uid, strategy_id), chain in chains.items():
        arrived = await target.list_records(tenant_id, uid, strategy_id)
        same = [r.record_hash for r in arrived] == [r.record_hash for r in chain]
        if not same or not verify_chain(arrived).ok:
            raise MigrationFailed(
                f"chain of {uid}/{strategy_id} does not verify", field=strategy_id
            )
    report.verified = True
    return report


async def _copy_reports(
    source: GovernanceStore, target: GovernanceStore, tenant_id: str, cited: set[str]
) -> int:
    copied = 0
    for metrics_hash in sorted(cited):
        body = await source.get_evaluation_report(tenant_id, metrics_hash)
        if body is None:
            continue  # cited but never stored at the source (e.g. an auto-approval's hash)
        await target.put_evaluation_report(tenant_id, body)
        if await target.get_evaluation_report(tenant_id, metrics_hash) != body:
            raise MigrationFailed(
                f"evaluation report {metrics_hash} changed in transit", field=metrics_hash
            )
        copied += 1
    return copied
