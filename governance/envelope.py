"""Which limit envelope is in force for a strategy: the one on record for its current stage."""

from __future__ import annotations

from collections.abc import Iterable

from governance.limits import LimitEnvelope
from governance.records import PromotionRecord, StrategyDoc


def envelope_in_force(
    strategy: StrategyDoc | None, records: Iterable[PromotionRecord]
) -> LimitEnvelope | None:
    """The envelope of the latest record that entered (or renewed) the strategy's effective
    stage with one; None when the stage places no orders or no record of it carries one.

    The approved envelope, not the policy's current one: a policy edited since the promotion
    changes nothing until the next promotion puts its envelope on record. A demotion from LIVE
    back to PAPER returns to the envelope PAPER was approved with.
    """
    if strategy is None:
        return None
    stage = strategy.effective_stage()
    for record in sorted(records, key=lambda r: r.sequence, reverse=True):
        if record.to_stage == stage and record.limit_envelope is not None:
            return record.limit_envelope
    return None
