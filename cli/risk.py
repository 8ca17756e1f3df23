"""`stratgate risk-event`: what a risk system sends, from the command line."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from app import risk
from app.risk import RiskEventSent
from cli import api_client
from cli.common import validation_lines
from cli.session import local_operator, local_ports
from cli.workflow_io import emit_json, fail, run
from governance.bounds import DETAILS_MAX_DEPTH, check_json, text_too_deep
from governance.records import Severity
from governance.risk_events import RiskEventKind


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
    api: Annotated[
        str | None,
        typer.Option(
            "--api",
            envvar="STRATGATE_API_URL",
            help="Go through the HTTP API (service or risk approver token in STRATGATE_TOKEN).",
        ),
    ] = None,
) -> None:
    """Send a risk event to the strategy's demotion workflow (started on the first event)."""
    parsed = parse_details(details)
    event_id = event_id or uuid.uuid4().hex
    if api:
        body = {
            "event_id": event_id,
            "uid": uid,
            "strategy_id": strategy,
            "kind": kind.value,
            "severity": severity.value if severity else None,
            "details": parsed,
        }
        answer = run(_post(api, f"/v1/tenants/{tenant}/risk-events", body))
        workflow_id = str(answer["accepted"][0]["workflow_id"])
    else:
        try:
            sent = RiskEventSent(
                uid=uid,
                strategy_id=strategy,
                event_id=event_id,
                kind=kind,
                severity=severity,
                details=parsed,
            )
        except ValidationError as exc:
            fail("; ".join(validation_lines(exc)))
        workflow_id = run(_send(tenant, source, sent))
    if as_json:
        emit_json({"event_id": event_id, "workflow_id": workflow_id, "kind": kind.value})
    else:
        typer.echo(f"risk event {event_id} ({kind.value}) sent to {workflow_id}")


def parse_details(text: str) -> dict[str, Any]:
    """The --details object, refused (naming why) before anything is sent."""
    # Checked on the text first: json.loads recurses, and deep input would crash it.
    too_deep = text_too_deep(text.encode(), "details", DETAILS_MAX_DEPTH)
    if too_deep is not None:
        fail(str(too_deep))
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"details: not JSON ({exc.msg})")
    if not isinstance(parsed, dict):
        fail("details: must be a JSON object")
    problem = check_json(parsed, "details")
    if problem is not None:
        fail(str(problem))
    return parsed


async def _send(tenant: str, source: str, sent: RiskEventSent) -> str:
    """As the local operator (`local_operator:<source>`); an unknown strategy is refused
    before anything is stored or started."""
    async with local_ports() as ports:
        (accepted,) = await risk.send_risk_events(
            ports, local_operator(tenant, source), tenant_id=tenant, events=[sent]
        )
    return accepted.workflow_id


async def _post(base: str, path: str, body: dict[str, Any]) -> Any:
    return api_client.call(base, "POST", path, body)
