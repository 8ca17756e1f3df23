"""`stratgate risk-event`: what a risk system sends, from the command line."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Annotated

import typer

from cli.common import store_session
from cli.temporal import open_client
from cli.workflow_io import emit_json, fail, run
from governance.records import Severity
from governance.risk_events import RiskEvent, RiskEventKind
from settings import Settings
from workflows import client as wf


def risk_event(
    tenant: Annotated[str, typer.Option("--tenant")],
    uid: Annotated[str, typer.Option("--uid")],
    strategy: Annotated[str, typer.Option("--strategy")],
    kind: Annotated[RiskEventKind, typer.Option("--kind")],
    severity: Annotated[Severity | None, typer.Option("--severity")] = None,
    event_id: Annotated[
        str | None, typer.Option("--event-id", help="Idempotency key (default: a new uuid).")
    ] = None,
    details: Annotated[str, typer.Option("--details", help="JSON object.")] = "{}",
    source: Annotated[str, typer.Option("--source")] = "cli",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Send a risk event to the strategy's demotion workflow (started on the first event)."""
    try:
        parsed = json.loads(details)
    except json.JSONDecodeError as exc:
        fail(f"details: not JSON ({exc.msg})")
    if not isinstance(parsed, dict):
        fail("details: must be a JSON object")
    event = RiskEvent(
        event_id=event_id or uuid.uuid4().hex,
        kind=kind,
        severity=severity,
        ts=datetime.now(UTC),
        source=source,
        details=parsed,
    )

    async def go() -> str:
        client, queue = await open_client(Settings.from_env())
        async with store_session() as store:
            return await wf.send_risk_event(
                client, store, queue, tenant_id=tenant, uid=uid, strategy_id=strategy, event=event
            )

    workflow_id = run(go())
    if as_json:
        emit_json({"event_id": event.event_id, "workflow_id": workflow_id, "kind": kind.value})
    else:
        typer.echo(f"risk event {event.event_id} ({kind.value}) sent to {workflow_id}")
