"""`stratgate history`: one timeline of a strategy's workflows, records and audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from cli.common import Json, Tenant
from cli.output import table
from cli.temporal import open_client
from cli.workflow_io import emit_json, fail, run
from settings import Settings
from store.factory import open_store
from workflows import search_attributes as sa


async def workflow_entries(
    client: Client, tenant: str, uid: str, strategy: str
) -> list[dict[str, Any]]:
    """Starts, updates (approvals and rejections), risk signals and ends, from Temporal."""
    query = (
        f"{sa.TENANT.name} = '{tenant}' AND {sa.UID.name} = '{uid}' "
        f"AND {sa.STRATEGY.name} = '{strategy}'"
    )
    entries: list[dict[str, Any]] = []
    async for execution in client.list_workflows(query):
        handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
        async for event in handle.fetch_history_events():
            entry = await _describe(client, execution.id, event)
            if entry:
                entries.append(entry)
    return entries


async def _describe(client: Client, workflow_id: str, event: Any) -> dict[str, Any] | None:
    at = event.event_time.ToDatetime().isoformat() + "Z"
    kind = event.event_type
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        return {"at": at, "source": workflow_id, "what": "workflow started", "who": "", "why": ""}
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        request = event.workflow_execution_update_accepted_event_attributes.accepted_request
        args = await client.data_converter.decode(list(request.input.args.payloads))
        body = args[0] if args and isinstance(args[0], dict) else {}
        who = body.get("approver") or body.get("user") or ""
        what = f"{request.input.name} ({body.get('role', '')})".replace(" ()", "")
        return {
            "at": at,
            "source": workflow_id,
            "what": what,
            "who": who,
            "why": body.get("comment") or body.get("reason") or "",
        }
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        attrs = event.workflow_execution_signaled_event_attributes
        args = await client.data_converter.decode(list(attrs.input.payloads))
        body = args[0] if args and isinstance(args[0], dict) else {}
        what = f"signal {attrs.signal_name} {body.get('kind', '')}".strip()
        return {
            "at": at,
            "source": workflow_id,
            "what": what,
            "who": body.get("source", ""),
            "why": body.get("event_id", ""),
        }
    if kind in (
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
    ):
        name = EventType.Name(kind).removeprefix("EVENT_TYPE_WORKFLOW_EXECUTION_").lower()
        return {"at": at, "source": workflow_id, "what": f"workflow {name}", "who": "", "why": ""}
    return None


async def store_entries(tenant: str, uid: str, strategy: str) -> list[dict[str, Any]]:
    store = open_store(Settings.from_env())
    try:
        records = await store.list_records(tenant, uid, strategy)
        events = await store.list_audit_events(tenant, uid, strategy)
    finally:
        await store.close()
    entries = []
    for r in records:
        approvals = ", ".join(f"{a.uid} ({a.role})" for a in r.approved_by)
        entries.append(
            {
                "at": r.effective_at.isoformat(),
                "source": f"record #{r.sequence} {r.record_id[:8]}",
                "what": f"{r.decision} {r.from_stage} -> {r.to_stage}"
                + (" frozen" if r.freeze else ""),
                "who": r.requested_by + (f"; approved by {approvals}" if approvals else ""),
                "why": r.reason_code,
            }
        )
    for e in events:
        entries.append(
            {
                "at": e.ts.isoformat(),
                "source": "audit",
                "what": e.event_type,
                "who": str(e.details.get("by") or e.details.get("source") or ""),
                "why": str(
                    e.details.get("explanation")
                    or e.details.get("reason_code")
                    or e.details.get("reason")
                    or ""
                ),
            }
        )
    return entries


def history(
    tenant: Tenant,
    uid: Annotated[
        str | None, typer.Option("--uid", help="Owner (user id) of the strategy.")
    ] = None,
    strategy: Annotated[str | None, typer.Option("--strategy", help="Strategy id.")] = None,
    as_json: Json = False,
    records_only: Annotated[
        bool, typer.Option("--store-only", help="Skip Temporal (no running stack needed).")
    ] = False,
    fleet: Annotated[
        bool, typer.Option("--fleet", help="The tenant's halts and resumes, as one audit story.")
    ] = False,
    api: Annotated[
        str | None,
        typer.Option("--api", envvar="STRATGATE_API_URL", help="With --fleet: through the API."),
    ] = None,
) -> None:
    """Who did what, when and why: workflow histories, records and audit events, in order."""
    if fleet:
        from cli.fleet import fleet_history

        fleet_history(tenant, api, as_json)
        return
    if uid is None or strategy is None:
        fail("--uid and --strategy name the strategy (or --fleet for the tenant's halts)")

    async def go() -> list[dict[str, Any]]:
        entries = await store_entries(tenant, uid, strategy)
        if not records_only:
            client, _ = await open_client(Settings.from_env())
            entries += await workflow_entries(client, tenant, uid, strategy)
        return sorted(entries, key=lambda e: _instant(e["at"]))

    entries = run(go())
    if as_json:
        emit_json(entries)
        return
    table(
        ["when (UTC)", "source", "what", "who", "why"],
        [
            [e["at"][:19].replace("T", " "), e["source"], e["what"], e["who"], e["why"]]
            for e in entries
        ],
        title=f"{uid}/{strategy}",
    )


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00").replace("+00:00+00:00", "+00:00"))
