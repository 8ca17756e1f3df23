"""The columns of each evidence kind: a public contract for the platform's integrators.

Every kind has `ts` (a UTC timestamp). More columns than these are allowed and ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# A "flag" is an optional boolean the platform may or may not report: absent (or empty) is
# "not reported", which makes the criteria that read it not measurable rather than passed.
ColumnType = Literal["timestamp", "string", "float", "bool", "flag"]


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    required: bool = True
    nullable: bool = False
    choices: tuple[str, ...] | None = None
    low: float | None = None
    high: float | None = None
    default: object = None  # used when an optional column is absent


KINDS: dict[str, tuple[Column, ...]] = {
    "signal_evaluations": (
        Column("ts", "timestamp"),
        Column("symbol", "string"),
        Column("score", "float", nullable=True),  # null for discrete strategies
        Column("action", "string", choices=("BUY", "SELL", "HOLD")),
        Column("confidence", "float", nullable=True, low=0.0, high=1.0),
        Column("valid", "bool"),
        Column("error", "bool"),
        Column("fwd_return", "float", nullable=True),  # realised return at the policy's horizon
        Column("missing_fields", "flag", required=False, nullable=True),
        Column("schema_error", "flag", required=False, nullable=True),
        Column("marketdata_stale", "flag", required=False, nullable=True),
    ),
    "shadow_fills": (
        Column("ts", "timestamp"),
        Column("symbol", "string"),
        Column("quote_age_ms", "float", low=0.0),
        Column("fill_failed", "bool"),
        Column("position_weight", "float", low=0.0),
        Column("notional", "float"),
        Column("pnl", "float"),
        Column("equity", "float", low=0.0),
        Column("risk_denied", "flag", required=False, nullable=True),
    ),
    "paper_orders": (
        Column("ts", "timestamp"),
        Column("symbol", "string"),
        Column("decision_to_order_ms", "float", low=0.0),
        Column("expected_price", "float", low=0.0),
        Column("fill_price", "float", nullable=True, low=0.0),
        Column("api_error", "bool"),
        Column("risk_denied", "bool"),
        Column("notional", "float"),
        Column("pnl", "float"),
        Column("equity", "float", low=0.0),
    ),
    "risk_events": (
        Column("ts", "timestamp"),
        Column("kind", "string"),
        Column("severity", "string", choices=("critical", "warning", "info")),
        Column("event_id", "string"),
    ),
}
