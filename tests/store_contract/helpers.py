"""Building blocks shared by the store contract suite and the suites that seed a store."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from governance.audit_chain import unchained
from governance.records import AuditEvent, StrategyDoc
from governance.report import (
    Comparator,
    Criterion,
    CriterionStatus,
    EligibilityReport,
    ReportSeries,
    Verdict,
    WindowProgress,
)
from governance.stage_change import StageChange
from governance.stages import Decision, Transition
from governance.stages import LifecycleStage as S
from store.port import GovernanceStore

NOW = datetime(2026, 11, 25, 15, tzinfo=UTC)


def change(
    doc: StrategyDoc, to: S, decision: Decision = Decision.PROMOTE, **kw: Any
) -> StageChange:
    """A stage change from the state `doc` shows, with fresh record and audit event ids."""
    fields: dict[str, Any] = {
        "tenant_id": doc.tenant_id,
        "uid": doc.uid,
        "strategy_id": doc.strategy_id,
        "record_id": str(uuid.uuid4()),
        "audit_event_id": str(uuid.uuid4()),
        "decision": decision,
        "expected_from_stage": doc.lifecycle_stage,
        "expected_last_record_id": doc.last_stage_change_record_id,
        "to_stage": to,
        "reason_code": "contract",
        "policy_version": "v1",
        "requested_by": "quant",
        "requested_at": NOW,
        "effective_at": NOW,
        **kw,
    }
    return StageChange(**fields)


async def registered(
    store: GovernanceStore, tenant: str, stage: S = S.OBSERVE, strategy_id: str = "s1"
) -> StrategyDoc:
    doc = StrategyDoc(tenant_id=tenant, uid="quant", strategy_id=strategy_id, lifecycle_stage=stage)
    await store.register_strategy(doc)
    return doc


async def current(store: GovernanceStore, doc: StrategyDoc) -> StrategyDoc:
    found = await store.get_strategy(doc.tenant_id, doc.uid, doc.strategy_id)
    assert found is not None
    return found


async def snapshot(store: GovernanceStore, tenant: str) -> tuple[object, ...]:
    """Everything a stage change may write, to show that a refused one wrote nothing."""
    return (
        await store.list_strategies(tenant),
        await store.list_records(tenant),
        await store.list_audit_events(tenant),
        await store.list_requests(tenant),
    )


def sample_report(verdict: Verdict = Verdict.ELIGIBLE, hit_rate: float = 0.56) -> EligibilityReport:
    """A small, real eligibility report (hashed), for suites that store one."""
    return EligibilityReport(
        verdict=verdict,
        target_stage=S.SHADOW,
        transition=Transition.OBSERVE_TO_SHADOW,
        policy_version="test.v1",
        window=WindowProgress(start=NOW, end=NOW, sessions=5, sessions_required=5),
        criteria=[
            Criterion(
                name="hit_rate",
                comparator=Comparator.AT_LEAST,
                threshold=0.52,
                value=hit_rate,
                unit="fraction",
                status=CriterionStatus.PASS if hit_rate >= 0.52 else CriterionStatus.FAIL,
                evidence="signal_evaluations",
            ),
            Criterion(
                name="calibration_monotonic_buckets",
                comparator=Comparator.AT_LEAST,
                threshold=4,
                value=None,
                unit="buckets",
                status=CriterionStatus.NOT_MEASURABLE,
                why="no confidence",
                evidence="signal_evaluations",
            ),
        ],
        series=ReportSeries(equity=[(20_000, 1.0), (20_001, 1.01)]),
    ).hashed()


def unchained_all(events: list[AuditEvent]) -> list[AuditEvent]:
    """The events as their callers built them (without the chain fields the store added)."""
    return [unchained(e) for e in events]
