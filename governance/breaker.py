"""A platform circuit breaker's demotion, brought into the chain.

The platform's breakers (spec section 6) demote by writing `execution_mode = "SHADOW_MODE"`,
`shadow_mode_reason` and `shadow_mode_activated_at` on the strategy document directly, without
touching `lifecycle_stage`. Decisions are made on the effective stage (the lower of the two), and
the first stratgate read that finds such a document records the breaker's demotion as a governed
`demote` record, frozen for manual review as the spec asks of a critical breaker (2B).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from governance.records import Severity, StrategyDoc
from governance.stage_change import StageChange
from governance.stages import Decision, stage_for_execution_mode

PLATFORM_BREAKER = "platform:circuit_breaker"
_NAMESPACE = uuid.UUID("8d0c6f0e-3f7e-4f4b-9d1e-6f1f6b7c2a10")


def breaker_reason(doc: StrategyDoc) -> str:
    return doc.shadow_mode_reason or "circuit_breaker_shadow_mode"


def breaker_demotion(
    doc: StrategyDoc,
    policy_version: str | None,
    discovered_at: datetime,
    policy_hash: str | None = None,
) -> StageChange | None:
    """The record of a breaker's demotion found on `doc`, or None if no breaker holds it down.

    Ids and times come from the document itself, so two readers that discover the same breaker
    build the same change: one lands, the other is a retry of it.
    """
    if not doc.breaker_active():
        return None
    reason = breaker_reason(doc)
    at = doc.shadow_mode_activated_at or discovered_at
    key = (
        f"{doc.tenant_id}/{doc.uid}/{doc.strategy_id}/{doc.chain_length}/{reason}/{at.isoformat()}"
    )
    record_id = str(uuid.uuid5(_NAMESPACE, key))
    target = stage_for_execution_mode(doc.execution_mode)
    return StageChange(
        tenant_id=doc.tenant_id,
        uid=doc.uid,
        strategy_id=doc.strategy_id,
        record_id=record_id,
        audit_event_id=str(uuid.uuid5(_NAMESPACE, "audit/" + key)),
        decision=Decision.DEMOTE,
        expected_from_stage=doc.lifecycle_stage,
        expected_last_record_id=doc.last_stage_change_record_id,
        to_stage=target,
        reason_code=reason,
        policy_version=policy_version,
        requested_by=PLATFORM_BREAKER,
        requested_at=at,
        effective_at=at,
        set_freeze=True,
        freeze_reason=f"circuit_breaker: {reason}",
        correlation_id=record_id,
        severity=Severity.CRITICAL,
        audit_details={
            "source": "platform circuit breaker (execution_mode written on the strategy document)",
            "discovered_at": discovered_at.isoformat(),
            "shadow_mode_reason": reason,
        },
        policy_hash=policy_hash,
    )
