"""The evidence a report is computed from, as typed NumPy columns (one dataclass per kind).

Loading them from files or collections is the `evidence` package's job; everything here is pure.
Timestamps are int64 nanoseconds since the epoch, UTC; `day` is the UTC day number.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from governance.records import EvidenceRef

F = NDArray[np.float64]
B = NDArray[np.bool_]
Ints = NDArray[np.int64]
S = NDArray[np.str_]
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
    missing_fields: B
    schema_error: B


@dataclass(frozen=True)
class ShadowFills(Columns):
    symbol: S
    quote_age_ms: F
    fill_failed: B
    position_weight: F  # |position| / portfolio value after the fill
    notional: F
    pnl: F
    equity: F  # portfolio equity after the fill
    risk_denied: B


@dataclass(frozen=True)
class PaperOrders(Columns):
    symbol: S
    decision_to_order_ms: F
    expected_price: F
    fill_price: F  # NaN when not filled
    api_error: B
    risk_denied: B
    notional: F
    pnl: F
    equity: F


@dataclass(frozen=True)
class RiskEvents(Columns):
    kind: S
    severity: S
    event_id: S


@dataclass(frozen=True)
class EvidenceBundle:
    signals: SignalEvaluations | None = None
    fills: ShadowFills | None = None
    orders: PaperOrders | None = None
    risk: RiskEvents | None = None
    refs: list[EvidenceRef] = field(default_factory=list)
