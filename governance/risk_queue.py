"""The demotion workflow's queue of risk events: references to stored events, urgent first."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from governance.records import Identifier, UtcDatetime
from governance.risk_events import RISK_CLASS, RiskClass, RiskEvent, RiskEventKind, StoredRiskEvent


class RiskEventRef(BaseModel):
    """What the demotion workflow keeps of an event: its id, kind and time, never its details.

    The event itself is stored first (by the API, or by the workflow's first activity for one
    signalled directly), so a burst of large events costs the workflow ~100 bytes each.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: Identifier
    kind: RiskEventKind
    ts: UtcDatetime

    @classmethod
    def of(cls, event: RiskEvent | StoredRiskEvent) -> RiskEventRef:
        return cls(event_id=event.event_id, kind=event.kind, ts=event.ts)

    @property
    def urgent(self) -> bool:
        """Anything but a warning may lower a stage or forbid a promotion: it goes first."""
        return RISK_CLASS[self.kind] != RiskClass.WARNING


def next_batch(pending: list[RiskEventRef], limit: int) -> list[RiskEventRef]:
    """The events to apply next: urgent ones first, each group in arrival order.

    A critical event behind thousands of warnings is applied in the next batch, not after them;
    warnings keep their order among themselves, which is what their budget counts.
    """
    urgent = [r for r in pending if r.urgent]
    return (urgent or pending)[:limit]
