"""The evidence a report is computed from, as typed NumPy columns (one dataclass per kind).

Loading them from files or collections is the `evidence` package's job; everything here is pure.
Timestamps are int64 nanoseconds since the epoch, UTC; `day` is the UTC day number.
Optional flags are tri-state int8 (`Flags`): 1 true, 0 false, -1 not reported, so a flag the
evidence never reported is not measurable rather than silently "never happened".
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from typing import TYPE_CHECKING, Protocol, TypeVar

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    # Types only: the metric code (and evidence.partials, which summarises with it) runs without
    # pydantic's models, so a summary needs nothing of them at run time.
    from governance.metrics.signal_days import DayStats
    from governance.records import EvidenceRef

F = NDArray[np.float64]
B = NDArray[np.bool_]
Ints = NDArray[np.int64]
S = NDArray[np.str_]
Flags = NDArray[np.int8]
UNREPORTED = -1
NS_PER_DAY = 86_400 * 10**9
C = TypeVar("C", bound="Columns")


def days_of(ts: Ints) -> Ints:
    return (ts // NS_PER_DAY).astype(np.int64)


@dataclass(frozen=True)
class Columns:
    ts: Ints

    def __len__(self) -> int:
        return len(self.ts)

    def where(self: C, mask: B) -> C:
        if mask.all():
            return self  # columns are never mutated, so the whole set can be shared
        return type(self)(**{f.name: getattr(self, f.name)[mask] for f in fields(self)})

    def between(self: C, start_ns: int, end_ns: int) -> C:
        return self.where((self.ts >= start_ns) & (self.ts <= end_ns))

    @cached_property
    def day(self) -> Ints:
        return days_of(self.ts)


@dataclass(frozen=True)
class SignalEvaluations(Columns):
    symbol: S
    score: F  # NaN for discrete strategies
    action: S
    confidence: F  # NaN when absent
    valid: B
    error: B
    fwd_return: F  # NaN when not yet realised
    missing_fields: Flags
    schema_error: Flags
    marketdata_stale: Flags  # the evaluation ran on marketdata older than its max age


@dataclass(frozen=True)
class ShadowFills(Columns):
    symbol: S
    quote_age_ms: F
    fill_failed: B
    position_weight: F  # |position| / portfolio value after the fill
    notional: F
    pnl: F
    equity: F  # portfolio equity after the fill
    risk_denied: Flags


@dataclass(frozen=True)
class PaperOrders(Columns):
    symbol: S
    decision_to_order_ms: F
    expected_price: F
    fill_price: F  # NaN when not filled
    api_error: B
    risk_denied: B
    notional: F  # signed: positive buys, negative sells
    pnl: F
    equity: F


@dataclass(frozen=True)
class RiskEvents(Columns):
    kind: S
    severity: S  # as the sender classified it; the policy's classification is applied later
    event_id: S

    @staticmethod
    def concat(parts: list[RiskEvents]) -> RiskEvents | None:
        """One time-ordered history from several sources (ingested files, stored events)."""
        parts = [p for p in parts if len(p)]
        if not parts:
            return None
        joined = {
            f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(RiskEvents)
        }
        order = np.argsort(joined["ts"], kind="stable")
        return RiskEvents(**{name: values[order] for name, values in joined.items()})


class SignalSummary(Protocol):
    """Signal evaluations as per-day summaries (governance.metrics.signal_days): what the
    criteria read. Columns in memory give one (`ColumnSummary`); so do evidence files with
    their kept partial results, without holding the rows."""

    def days(self, start_ns: int, end_ns: int) -> list[DayStats]:
        """The days of the rows with start_ns <= ts <= end_ns, each summarised on those rows."""
        ...

    def rows_after(self, ts_ns: int) -> int:
        """How many rows (of any time) are stamped later than ts_ns."""
        ...


@dataclass(frozen=True)
class EvidenceBundle:
    signals: SignalEvaluations | None = None
    fills: ShadowFills | None = None
    orders: PaperOrders | None = None
    risk: RiskEvents | None = None
    refs: list[EvidenceRef] = field(default_factory=list)
    # The signals as summaries; when set, the report reads them instead of `signals`.
    signal_summary: SignalSummary | None = None

    def with_risk(self, extra: RiskEvents | None, ref: EvidenceRef | None = None) -> EvidenceBundle:
        """This bundle with more risk events (the stored history) merged into its own."""
        merged = RiskEvents.concat([r for r in (self.risk, extra) if r is not None])
        refs = [*self.refs, ref] if ref is not None else self.refs
        return replace(self, risk=merged, refs=refs)
