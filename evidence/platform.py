"""The platform's own evidence: shadow trades and paper orders read from its collections.

In production the trading platform already records what SHADOW and PAPER are judged on:
shadow trades in `users/{uid}/shadowTradeHistory/{id}` (the existing shadow P&L) and paper
orders in `tenants/{tenant_id}/paper_orders/{id}`. `PlatformEvidenceSource` reads those two
kinds from there (through a `PlatformDocuments` reader: Firestore in store/, anything in tests)
and the rest (signal evaluations, risk events) from files as before.

Each document is mapped field by field (docs/evidence.md lists the mapping). A document that
cannot be mapped is refused with an error naming its path and field, and the evaluation stops:
nothing is counted from a bad document, nor judged on evidence with one missing. Each document
is cited as an evidence reference: its path and the SHA-256 of its canonical content (RFC 8785
JSON of the document as read; timestamps as RFC 3339 UTC strings), which anyone can recompute.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import numpy as np

from evidence.errors import EvidenceDocumentError
from evidence.files import FileEvidenceSource
from governance.evidence_columns import UNREPORTED, EvidenceBundle, PaperOrders, ShadowFills
from governance.hashing import canonical_hash
from governance.records import EvidenceRef
from governance.replay import CitedFile, FileStatus

Document = tuple[str, dict[str, Any]]  # (path, JSON-able content)


class PlatformDocuments(Protocol):
    """The platform's documents of one strategy, as JSON-able mappings with their paths."""

    def shadow_trades(self, tenant_id: str, uid: str, strategy_id: str) -> list[Document]: ...

    def paper_orders(self, tenant_id: str, uid: str, strategy_id: str) -> list[Document]: ...


@dataclass(frozen=True)
class Field:
    """One column from a document: the first of `names` present, converted by `kind`."""

    column: str
    names: tuple[str, ...]
    kind: str  # number | price | timestamp | string | bool | flag | side | failed | allowed
    required: bool = True
    low: float | None = None


SHADOW_TRADES = (
    Field("ts", ("created_at", "created_at_iso"), "timestamp"),
    Field("symbol", ("symbol",), "string"),
    Field("quote_age_ms", ("quote_age_ms",), "number", low=0.0),
    Field("fill_failed", ("status",), "failed"),
    Field("position_weight", ("position_weight",), "number", low=0.0),
    Field("notional", ("notional",), "number"),
    Field("pnl", ("realized_pnl", "current_pnl"), "number"),
    Field("equity", ("equity",), "number", low=0.0),
    Field("risk_denied", ("risk_denied",), "flag", required=False),
)
PAPER_ORDERS = (
    Field("ts", ("created_at", "created_at_iso"), "timestamp"),
    Field("symbol", ("symbol",), "string"),
    Field("decision_to_order_ms", ("decision_to_order_ms",), "number", low=0.0),
    Field("expected_price", ("expected_price",), "number", low=0.0),
    Field("fill_price", ("filled_avg_price", "fill_price"), "price", required=False, low=0.0),
    Field("api_error", ("status",), "failed"),
    Field("risk_denied", ("risk_allowed",), "allowed"),
    Field("notional", ("notional",), "side"),  # signed by `side`: buys +, sells -
    Field("pnl", ("pnl", "realized_pnl"), "number"),
    Field("equity", ("equity",), "number", low=0.0),
)
FAILED = {"failed", "rejected", "error", "canceled_by_broker", "api_error"}
_RFC3339 = re.compile(
    r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)", re.IGNORECASE
)


def parse_timestamp(text: str) -> int:
    """RFC 3339 to exact UTC nanoseconds (Firestore timestamps carry nanoseconds)."""
    match = _RFC3339.fullmatch(text.strip())
    if match is None:
        raise ValueError("not an RFC 3339 timestamp")
    whole, fraction, zone = match.groups()
    zone = "+00:00" if zone.upper() == "Z" else zone
    at = datetime.fromisoformat(whole + zone)
    seconds = (at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(seconds=1)
    return int(seconds) * 10**9 + int((fraction or "").ljust(9, "0"))


def _number(value: Any) -> float:
    # Amounts are often decimal strings on the platform (kept exact there): read them as numbers.
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("not a number")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"not a number: {value!r}") from None
    if not np.isfinite(number):
        raise ValueError("not a finite number")
    return number


def _value(f: Field, doc: Mapping[str, Any]) -> Any:
    name = next((n for n in f.names if doc.get(n) is not None), None)
    if name is None:
        if f.kind == "flag":
            return UNREPORTED
        if f.kind == "price":
            return np.nan  # not filled
        raise ValueError("required field is missing")
    value = doc[name]
    if f.kind == "timestamp":
        if not isinstance(value, str):
            raise ValueError("not a timestamp")
        return parse_timestamp(value)
    if f.kind == "string":
        if not isinstance(value, str) or not value.strip():
            raise ValueError("not a non-empty string")
        return value
    if f.kind in ("bool", "flag", "allowed"):
        if not isinstance(value, bool):
            raise ValueError("not a boolean")
        if f.kind == "allowed":
            return not value  # the platform records whether risk allowed the order
        return int(value) if f.kind == "flag" else value
    if f.kind == "failed":
        if not isinstance(value, str):
            raise ValueError("not a status string")
        return value.strip().lower() in FAILED
    number = _number(value)
    if f.kind == "side":
        side = doc.get("side")
        if not isinstance(side, str) or side.strip().lower() not in ("buy", "sell"):
            raise _Bad("side", "not buy or sell")
        number = abs(number) if side.strip().lower() == "buy" else -abs(number)
    if f.low is not None and number < f.low:
        raise ValueError(f"below {f.low}")
    return number


class _Bad(ValueError):
    def __init__(self, field: str, reason: str):
        super().__init__(reason)
        self.field = field


def columns(fields: tuple[Field, ...], docs: list[Document]) -> dict[str, np.ndarray[Any, Any]]:
    """The documents as columns, in time order (ties in path order); refuses a bad one."""
    rows: dict[str, list[Any]] = {f.column: [] for f in fields}
    for path, doc in sorted(docs, key=lambda d: d[0]):
        mapped = {}
        for f in fields:
            try:
                mapped[f.column] = _value(f, doc)
            except _Bad as exc:
                raise EvidenceDocumentError(path, exc.field, str(exc)) from None
            except ValueError as exc:
                shown = next((n for n in f.names if n in doc), f.names[0])
                raise EvidenceDocumentError(path, shown, str(exc)) from None
        for column, value in mapped.items():  # only a whole document is counted
            rows[column].append(value)
    out = {c: np.array(v) for c, v in rows.items()}
    order = np.argsort(np.array(rows["ts"], dtype=np.int64), kind="stable")
    typed: dict[str, np.ndarray[Any, Any]] = {}
    for f in fields:
        values = out[f.column][order] if len(order) else out[f.column]
        dtype = {"timestamp": np.int64, "flag": np.int8, "failed": bool, "allowed": bool}.get(
            f.kind, np.float64
        )
        typed[f.column] = values.astype(str) if f.kind == "string" else values.astype(dtype)
    return typed


def refs(kind: str, docs: list[Document]) -> list[EvidenceRef]:
    """Each document by path and the SHA-256 of its canonical (RFC 8785) JSON."""
    return [
        EvidenceRef(kind=kind, id=path, sha256=canonical_hash(doc)) for path, doc in sorted(docs)
    ]


refs_of = refs  # under another name where a parameter is called `refs`


class PlatformEvidenceSource:
    """Shadow trades and paper orders from the platform; signals and risk events from files."""

    def __init__(self, files: FileEvidenceSource, platform: PlatformDocuments):
        self.files, self.platform = files, platform

    def open(self, tenant_id: str, uid: str, strategy_id: str) -> EvidenceBundle:
        bundle = self.files.open(tenant_id, uid, strategy_id)
        kinds: list[tuple[str, Callable[..., list[Document]], tuple[Field, ...], Any]] = [
            ("shadow_fills", self.platform.shadow_trades, SHADOW_TRADES, ShadowFills),
            ("paper_orders", self.platform.paper_orders, PAPER_ORDERS, PaperOrders),
        ]
        found: dict[str, Any] = {}
        cited = [r for r in bundle.refs if r.kind == "signal_evaluations"]
        for kind, read, fields, model in kinds:
            docs = read(tenant_id, uid, strategy_id)
            found[kind] = model(**columns(fields, docs)) if docs else None
            cited += refs(kind, docs)
        cited += [r for r in bundle.refs if r.kind == "risk_events"]
        return replace(
            bundle, fills=found["shadow_fills"], orders=found["paper_orders"], refs=cited
        )

    def open_cited(
        self,
        tenant_id: str,
        uid: str,
        strategy_id: str,
        refs: list[EvidenceRef],
        verify: bool = True,
    ) -> tuple[EvidenceBundle, list[CitedFile]]:
        """Exactly the cited documents (by path), each checked against its cited hash, and the
        cited files; documents written since are left out."""
        from evidence.cited import open_cited

        in_files = [r for r in refs if r.kind in ("signal_evaluations", "risk_events")]
        bundle, checks = open_cited(self.files, tenant_id, uid, strategy_id, in_files, verify)
        kinds: list[tuple[str, Callable[..., list[Document]], tuple[Field, ...], Any]] = [
            ("shadow_fills", self.platform.shadow_trades, SHADOW_TRADES, ShadowFills),
            ("paper_orders", self.platform.paper_orders, PAPER_ORDERS, PaperOrders),
        ]
        found: dict[str, Any] = {}
        cited = [r for r in bundle.refs if r.kind == "signal_evaluations"]
        for kind, read, fields, model in kinds:
            wanted = {r.id: r for r in refs if r.kind == kind}
            docs = dict(read(tenant_id, uid, strategy_id)) if wanted else {}
            kept: list[Document] = []
            for path, ref in sorted(wanted.items()):
                doc = docs.get(path)
                status, reason = FileStatus.VERIFIED, "content hashes to the cited sha256"
                if doc is None:
                    status, reason = FileStatus.MISSING, f"no platform document {path}"
                elif not verify:
                    status, reason = FileStatus.UNVERIFIED, ""
                elif canonical_hash(doc) != ref.sha256:
                    status = FileStatus.ALTERED
                    reason = f"document {path} no longer hashes to the cited sha256"
                checks.append(
                    CitedFile(kind=kind, id=path, sha256=ref.sha256, status=status, reason=reason)
                )
                if doc is not None:  # an altered one is read as it is now, and named
                    kept.append((path, doc))
            found[kind] = model(**columns(fields, kept)) if kept else None
            cited += refs_of(kind, kept)
        cited += [r for r in bundle.refs if r.kind == "risk_events"]
        return (
            replace(bundle, fills=found["shadow_fills"], orders=found["paper_orders"], refs=cited),
            checks,
        )
