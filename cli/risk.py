"""`stratgate risk-event`: what a risk system sends, from the command line."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from app import risk
from app.risk import RiskEventOutcome, RiskEventSent
from cli import api_client
from cli.common import Json, Strategy, Tenant, Uid, validation_lines
from cli.output import out
from cli.session import local_operator, local_ports
from cli.workflow_io import emit_json, fail, run
from governance.bounds import DETAILS_MAX_DEPTH, check_json, text_too_deep
from governance.records import Severity
from governance.risk_events import RiskEventKind


def risk_event(
    tenant: Tenant,
    uid: Uid,
    strategy: Strategy,
    kind: Annotated[
        RiskEventKind,
        typer.Option("--kind", case_sensitive=False, help="What happened (the public names)."),
    ],
    severity: Annotated[
        Severity | None,
        typer.Option(
            "--severity", case_sensitive=False, help="Severity (default: the kind's own)."
        ),
    ] = None,
    event_id: Annotated[
        str | None, typer.Option("--event-id", help="Idempotency key (default: a new uuid).")
    ] = None,
    details: Annotated[str, typer.Option("--details", help="JSON object.")] = "{}",
    source: Annotated[
        str, typer.Option("--source", help="Who sends it (recorded as local_operator:<source>).")
    ] = "cli",
    wait: Annotated[
        bool,
        typer.Option(
            "--wait/--no-wait", help="Wait until the event is applied and say what it did."
        ),
    ] = True,
    wait_seconds: Annotated[
        float, typer.Option("--wait-seconds", min=0, help="How long --wait waits at most.")
    ] = 10.0,
    as_json: Json = False,
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
    sent_line = f"risk event {event_id} ({kind.value}) sent to {workflow_id}"
    outcome = None
    if wait:
        read = _api_outcome(api, tenant, uid, strategy, event_id) if api else None
        outcome = _await_outcome(tenant, uid, strategy, event_id, wait_seconds, read)
    if as_json:
        shown: dict[str, Any] = {"event_id": event_id, "workflow_id": workflow_id}
        shown.update(kind=kind.value, outcome=outcome.model_dump(mode="json") if outcome else None)
        emit_json(shown)
        return
    out(sent_line)
    out(describe_outcome(outcome, wait_seconds if wait else None))


def describe_outcome(outcome: RiskEventOutcome | None, waited: float | None) -> str:
    """What the demotion did, in one line; or that it is still pending."""
    if outcome is None or not outcome.applied:
        how_long = f" after {waited:g} s" if waited is not None else ""
        return (
            f"pending: not applied yet{how_long}; its outcome will be in "
            "`stratgate history` and `stratgate records list`"
        )
    if outcome.action is None:
        return f"applied: no stage change ({outcome.explanation})"
    frozen = ", frozen" if outcome.frozen else ""
    verb = "frozen at" if outcome.action == "freeze" else f"{outcome.action}d"
    change = (
        f"{outcome.to_stage}"
        if outcome.action == "freeze"
        else f"{outcome.from_stage} -> {outcome.to_stage}"
    )
    return (
        f"{verb} {change}{frozen if outcome.action != 'freeze' else ''}, record "
        f"{outcome.record_id}: {outcome.explanation}"
    )


def _api_outcome(
    base: str, tenant: str, uid: str, strategy: str, event_id: str
) -> Callable[[], Coroutine[Any, Any, RiskEventOutcome]]:
    """The outcome as the API reports it, for a caller that holds a token, not the store."""
    path = f"/v1/tenants/{tenant}/strategies/{uid}/{strategy}/risk-events/{event_id}"

    async def read() -> RiskEventOutcome:
        return RiskEventOutcome.model_validate(api_client.call(base, "GET", path))

    return read


def _await_outcome(
    tenant: str,
    uid: str,
    strategy: str,
    event_id: str,
    seconds: float,
    through_api: Callable[[], Coroutine[Any, Any, RiskEventOutcome]] | None = None,
) -> RiskEventOutcome:
    async def from_store() -> RiskEventOutcome:
        async with local_ports(temporal=False) as ports:
            return await risk.risk_event_outcome(
                ports,
                local_operator(tenant),
                tenant_id=tenant,
                uid=uid,
                strategy_id=strategy,
                event_id=event_id,
            )

    read = through_api or from_store
    deadline = time.monotonic() + seconds
    outcome = run(read())
    while not outcome.applied and time.monotonic() < deadline:
        time.sleep(0.2)
        outcome = run(read())
    return outcome


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
