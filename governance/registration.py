"""Registering a strategy that already lives in a stage: its document and its audit event.

Registration promotes nothing, so it writes no promotion record; the store writes the strategy
document and the `strategy.registered` event together, or neither.
"""

from __future__ import annotations

from datetime import datetime

from governance.records import AuditEvent, StrategyDoc
from governance.stages import LifecycleStage, execution_mode_for


def strategy_registration(
    tenant_id: str,
    uid: str,
    strategy_id: str,
    stage: LifecycleStage,
    entered_at: datetime,
    now: datetime,
    policy_version: str | None = None,
) -> tuple[StrategyDoc, AuditEvent]:
    doc = StrategyDoc(
        tenant_id=tenant_id,
        uid=uid,
        strategy_id=strategy_id,
        lifecycle_stage=stage,
        execution_mode=execution_mode_for(stage),
        last_stage_change_at=entered_at,
        policy_version=policy_version,
    )
    event = AuditEvent(
        # One registration per strategy, so the id is derived: a retry cannot duplicate it.
        event_id=f"registered-{uid}-{strategy_id}",
        event_type="strategy.registered",
        ts=now,
        tenant_id=tenant_id,
        uid=uid,
        strategy_id=strategy_id,
        details={"lifecycle_stage": stage.value, "since": entered_at.isoformat()},
    )
    return doc, event
