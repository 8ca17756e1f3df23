"""Bringing a strategy document that a platform circuit breaker changed back into the chain.

Every path that reads a strategy to decide something (a request, a final check, a risk event)
calls `reconcile_breaker` first: a breaker's direct `execution_mode` write is recorded as a
governed demotion before anything is decided on the document.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from activities.stage_log import log_stage_change, traced_change
from governance.breaker import breaker_demotion
from governance.errors import PreconditionFailed, RecordConflict
from governance.policy import PromotionPolicy
from governance.records import PromotionRecord, StrategyDoc
from governance.stage_change import EVENT_TYPE, StageChange

ATTEMPTS = 3


class StrategyStore(Protocol):
    """The part of the GovernanceStore port a request and a reconciliation use."""

    async def get_strategy(
        self, tenant_id: str, uid: str, strategy_id: str
    ) -> StrategyDoc | None: ...
    async def get_policy(self, tenant_id: str) -> PromotionPolicy | None: ...
    async def commit_stage_change(self, change: StageChange) -> PromotionRecord: ...


async def reconcile_breaker(
    store: StrategyStore, doc: StrategyDoc | None, now: datetime
) -> tuple[StrategyDoc | None, PromotionRecord | None]:
    """The document with any breaker demotion on record, and that record if this call wrote it."""
    for _ in range(ATTEMPTS):
        if doc is None or not doc.breaker_active():
            return doc, None
        policy = await store.get_policy(doc.tenant_id)
        change = breaker_demotion(
            doc,
            policy.policy_version if policy else None,
            now,
            policy_hash=policy.policy_hash if policy else None,
        )
        assert change is not None
        change = traced_change(change)
        try:
            record = await store.commit_stage_change(change)
        except (PreconditionFailed, RecordConflict):
            # Another reader recorded it first, or the document moved on: look again.
            doc = await store.get_strategy(doc.tenant_id, doc.uid, doc.strategy_id)
            continue
        log_stage_change(record, EVENT_TYPE[record.decision], record.correlation_id)
        return await store.get_strategy(doc.tenant_id, doc.uid, doc.strategy_id), record
    return doc, None
