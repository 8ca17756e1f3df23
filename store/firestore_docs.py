"""How FirestoreStore turns models into documents and back (pure functions, no I/O).

Documents hold each model's `model_dump(mode="json")` form as it is, nulls included (the Node
emulator and Firestore both store null): timestamps stay ISO strings, so record hashes verify after
a round trip. Audit events and policy versions carry one extra field, `_position`, for ordering;
it is stripped on read.
"""

from __future__ import annotations

import json
import time
from typing import Any

from governance.chain import stored_record
from governance.records import AuditEvent, StrategyDoc
from governance.report import EligibilityReport, stored_report

POSITION = "_position"
REPORT_JSON = "report_json"


def position() -> str:
    """A monotonically increasing sort key (zero-padded so it also sorts as text)."""
    return f"{time.time_ns():020d}"


def positioned(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, POSITION: position()}


def unpositioned(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != POSITION}


record_of = stored_record  # one reading of a stored record, for both adapters


def audit_doc(event: AuditEvent) -> dict[str, Any]:
    return positioned(event.model_dump(mode="json"))


def audit_of(data: dict[str, Any]) -> AuditEvent:
    return AuditEvent.model_validate(unpositioned(data))


def strategy_changes(before: StrategyDoc, after: StrategyDoc) -> dict[str, Any]:
    """The fields a stage change sets, for a merge write that keeps every other field: the ones
    other platform services keep on the strategy document, and any they changed meanwhile."""
    old, new = before.model_dump(mode="json"), after.model_dump(mode="json")
    return {k: v for k, v in new.items() if old.get(k) != v}


def report_doc(report: EligibilityReport) -> dict[str, Any]:
    """Eligibility reports are stored as JSON text, so they read back exactly as written (int vs
    float, nesting depth and key names are Firestore's business no longer)."""
    return {"metrics_hash": report.metrics_hash, REPORT_JSON: report.model_dump_json()}


def report_of(data: dict[str, Any]) -> EligibilityReport:
    if REPORT_JSON in data and isinstance(data[REPORT_JSON], str):
        return stored_report(json.loads(data[REPORT_JSON]))
    return stored_report(data)  # written as a plain map by an earlier version
