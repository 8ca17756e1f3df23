"""Onboarding a fleet: a file of strategies that already live in a stage, registered together.

Rows come as CSV (header `uid,strategy_id,stage,since`) or JSON lines (one object a line with
those keys). Every row is checked before anything is written; the first bad one refuses the
whole file, naming its row (the 1-based number of the data row: a CSV header is not a row) and
the field, as `rows[N].field`. Each strategy gets the `strategy.registered` event a single
registration writes, plus the file's `batch` digest in its details: a store that finds a
strategy already registered under the same digest knows it landed from an earlier attempt of
this very file (see `plan_bulk_registration`), and anything else already there is a refusal.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from governance.errors import GovernanceError, RecordConflict
from governance.records import AuditEvent, Identifier, StrategyDoc
from governance.registration import strategy_registration
from governance.stages import LifecycleStage

# 50,000 rows is five times the largest desk the issue names; a JSON-lines row is ~120 bytes,
# so 8 MiB holds them with room for longer ids.
ROWS_MAX = 50_000
FILE_MAX_BYTES = 8 * 1024 * 1024
COLUMNS = ("uid", "strategy_id", "stage", "since")
REGISTERED = "strategy.registered"


class RowFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


class OnboardingRow(BaseModel):
    """One strategy of the file, as validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    uid: Identifier
    strategy_id: Identifier
    stage: LifecycleStage
    since: datetime | None = None  # None: since the registration itself


class RowRefused(GovernanceError):
    code = "invalid_request"

    def __init__(self, row: int, field: str, reason: str):
        super().__init__(f"row {row}: {field}: {reason}", field=f"rows[{row}].{field}")
        self.row = row


def format_of(name: str) -> RowFormat:
    """The format a file name says (`.csv`, `.jsonl` / `.ndjson`)."""
    lower = name.lower()
    if lower.endswith(".csv"):
        return RowFormat.CSV
    if lower.endswith((".jsonl", ".ndjson")):
        return RowFormat.JSONL
    raise GovernanceError(f"{name}: expected a .csv or .jsonl file", field="file")


def parse_rows(data: bytes, fmt: RowFormat) -> list[OnboardingRow]:
    """Every row of the file, validated; the first bad one refuses it all."""
    if len(data) > FILE_MAX_BYTES:
        raise GovernanceError(
            f"the file is {len(data)} bytes, over the limit of {FILE_MAX_BYTES}", field="file"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise GovernanceError(f"not UTF-8 text (byte {exc.start})", field="file") from None
    raw = _csv_rows(text) if fmt is RowFormat.CSV else _jsonl_rows(text)
    return validate_rows(raw)


def validate_rows(raw: Iterable[Mapping[str, Any]]) -> list[OnboardingRow]:
    """Rows as sent (a file's, or an API batch's), validated and checked for duplicates."""
    rows: list[OnboardingRow] = []
    first_seen: dict[tuple[str, str], int] = {}
    for n, item in enumerate(raw, start=1):
        if n > ROWS_MAX:
            raise GovernanceError(f"more than {ROWS_MAX} rows", field="rows")
        row = _row(n, item)
        key = (row.uid, row.strategy_id)
        if key in first_seen:
            raise RowRefused(
                n, "strategy_id", f"{row.uid}/{row.strategy_id} is also row {first_seen[key]}"
            )
        first_seen[key] = n
        rows.append(row)
    if not rows:
        raise GovernanceError("no rows: nothing to register", field="rows")
    return rows


def _row(n: int, item: Mapping[str, Any]) -> OnboardingRow:
    if not isinstance(item, Mapping):
        raise RowRefused(n, "row", "must be an object with uid, strategy_id, stage, since")
    values = dict(item)
    # An empty cell is a value not given: CSV cannot say null.
    if values.get("since") in ("", None):
        values.pop("since", None)
    if isinstance(values.get("stage"), str):
        values["stage"] = values["stage"].strip().upper()
    try:
        row = OnboardingRow.model_validate(values)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(p) for p in error["loc"]) or "row"
        raise RowRefused(n, field, str(error["msg"])) from None
    if row.since is not None:
        since = row.since if row.since.tzinfo else row.since.replace(tzinfo=UTC)
        row = row.model_copy(update={"since": since.astimezone(UTC)})
    return row


def _csv_rows(text: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in COLUMNS[:3] if c not in header]
    if missing:
        raise GovernanceError(
            f"the header must name {', '.join(COLUMNS)}; missing {', '.join(missing)}",
            field="header",
        )
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise GovernanceError(f"unknown column {unknown[0]!r}", field="header")
    reader.fieldnames = header
    rows: list[dict[str, Any]] = []
    for n, record in enumerate(reader, start=1):
        if None in record:  # more cells than the header names
            raise RowRefused(
                n, "row", f"{len(header) + len(record[None])} cells, expected {len(header)}"
            )
        rows.append({k: (v.strip() if isinstance(v, str) else v) for k, v in record.items()})
        if n > ROWS_MAX:
            break  # validate_rows names the bound
    return rows


def _jsonl_rows(text: str) -> list[Any]:
    rows: list[Any] = []
    for line in text.splitlines():
        if not line.strip():
            continue  # blank lines are not rows
        n = len(rows) + 1
        try:
            rows.append(json.loads(line))
        except (json.JSONDecodeError, RecursionError):
            raise RowRefused(n, "row", "not a JSON object") from None
        if n > ROWS_MAX:
            break
    return rows


def batch_digest(tenant_id: str, rows: Sequence[OnboardingRow]) -> str:
    """What identifies this file's content: the same rows give the same digest. One line per
    row of values that cannot hold a tab or newline (identifiers, enum, ISO time), hashed once:
    the canonical JSON of 10,000 rows would cost a second."""
    lines = [tenant_id] + [
        f"{r.uid}\t{r.strategy_id}\t{r.stage.value}\t{r.since.isoformat() if r.since else ''}"
        for r in rows
    ]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def batch_registration(
    tenant_id: str, rows: Sequence[OnboardingRow], now: datetime
) -> tuple[list[StrategyDoc], list[AuditEvent]]:
    """The documents and events of the file, in its order; refuses a `since` in the future."""
    digest = batch_digest(tenant_id, rows)
    docs: list[StrategyDoc] = []
    events: list[AuditEvent] = []
    for n, row in enumerate(rows, start=1):
        entered = row.since or now
        if entered > now:
            raise RowRefused(n, "since", f"{entered.isoformat()} is in the future")
        doc, event = strategy_registration(
            tenant_id, row.uid, row.strategy_id, row.stage, entered, now
        )
        docs.append(doc)
        events.append(event.model_copy(update={"details": {**event.details, "batch": digest}}))
    return docs, events


@dataclass(frozen=True)
class BulkWrite:
    """What a store writes for one row: the document and the event, either already there from
    an earlier attempt of the same file."""

    doc: StrategyDoc | None
    event: AuditEvent | None


def _landed_before(stored: AuditEvent | None, incoming: AuditEvent) -> bool:
    """The same file's registration of this strategy, from an earlier attempt (its time
    differs; its batch digest, stage and since do not)."""
    return (
        stored is not None
        and stored.event_type == incoming.event_type
        and stored.uid == incoming.uid
        and stored.strategy_id == incoming.strategy_id
        and "batch" in incoming.details
        and stored.details == incoming.details
    )


def plan_bulk_registration(
    docs: Sequence[StrategyDoc],
    events: Sequence[AuditEvent],
    stored_docs: Sequence[StrategyDoc | None],
    stored_events: Sequence[AuditEvent | None],
) -> list[BulkWrite]:
    """What to write, row by row, given what the store holds at each row's keys; refuses the
    whole batch (naming the row) when a strategy or its event id is already taken otherwise
    than by an earlier attempt of the same file, or a key is twice in it."""
    if not (len(docs) == len(events) == len(stored_docs) == len(stored_events)):
        raise GovernanceError("one audit event per strategy", field="events")
    seen: dict[tuple[str, str, str], int] = {}
    plan: list[BulkWrite] = []
    for n, (doc, event, found, found_event) in enumerate(
        zip(docs, events, stored_docs, stored_events, strict=True), start=1
    ):
        key = (doc.tenant_id, doc.uid, doc.strategy_id)
        if key in seen:
            raise RecordConflict(
                f"row {n}: strategy {doc.uid}/{doc.strategy_id} is also row {seen[key]}",
                field=f"rows[{n}].strategy_id",
            )
        seen[key] = n
        if (event.tenant_id, event.uid, event.strategy_id) != key or event.event_type != REGISTERED:
            raise RowRefused(
                n, "event", f"not the registration event of {doc.uid}/{doc.strategy_id}"
            )
        again = _landed_before(found_event, event)
        if found_event is not None and not again:
            raise _taken(n, doc)
        if found is not None and not again:
            raise _taken(n, doc)
        plan.append(BulkWrite(doc=None if found else doc, event=None if again else event))
    return plan


def _taken(n: int, doc: StrategyDoc) -> RecordConflict:
    return RecordConflict(
        f"row {n}: strategy {doc.uid}/{doc.strategy_id} is already registered",
        field=f"rows[{n}].strategy_id",
    )
