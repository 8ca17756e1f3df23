"""`stratgate history`: who did what, when and why for one strategy, from the store (records,
audit events) and, when asked, from Temporal (its workflows' starts, updates, signals, ends)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from app.lookup import require_strategy
from app.ports import Ports
from governance.history import HistoryEntry, audit_entry, record_entry, timeline
from governance.identity import Principal, require_tenant
from workflows import search_attributes as sa

ENDS = (
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
)


async def strategy_history(
    ports: Ports,
    who: Principal,
    *,
    tenant_id: str,
    uid: str,
    strategy_id: str,
    workflows: bool = True,
) -> list[HistoryEntry]:
    """Refuses an unknown tenant or strategy (a typo must not read as an empty history)."""
    require_tenant(who, tenant_id)
    await require_strategy(ports, tenant_id, uid, strategy_id)
    entries = [record_entry(r) for r in await ports.store.list_records(tenant_id, uid, strategy_id)]
    events = await ports.store.list_audit_events(tenant_id, uid, strategy_id)
    entries += [audit_entry(e) for e in events]
    if workflows:
        entries += await _workflow_entries(ports.temporal(), tenant_id, uid, strategy_id)
    return timeline(entries)


async def _workflow_entries(
    client: Client, tenant_id: str, uid: str, strategy_id: str
) -> list[HistoryEntry]:
    query = (
        f"{sa.TENANT.name} = '{tenant_id}' AND {sa.UID.name} = '{uid}' "
        f"AND {sa.STRATEGY.name} = '{strategy_id}'"
    )
    entries: list[HistoryEntry] = []
    async for execution in client.list_workflows(query):
        handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
        async for event in handle.fetch_history_events():
            entry = await _describe(client, execution.id, event)
            if entry is not None:
                entries.append(entry)
    return entries


async def _body(client: Client, payloads: Any) -> dict[str, Any]:
    """An update's or signal's argument as sent (a model's JSON form), or {} if it is not one."""
    args = await client.data_converter.decode(list(payloads))
    return args[0] if args and isinstance(args[0], dict) else {}


async def _describe(client: Client, workflow_id: str, event: Any) -> HistoryEntry | None:
    at, kind = event.event_time.ToDatetime(tzinfo=UTC), event.event_type
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        return HistoryEntry(at=at, source=workflow_id, what="workflow started")
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        request = event.workflow_execution_update_accepted_event_attributes.accepted_request
        body = await _body(client, request.input.args.payloads)
        role = body.get("role", "")
        return HistoryEntry(
            at=at,
            source=workflow_id,
            what=f"{request.input.name} ({role})" if role else request.input.name,
            who=str(body.get("approver") or body.get("user") or ""),
            why=str(body.get("comment") or body.get("reason") or ""),
        )
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        attrs = event.workflow_execution_signaled_event_attributes
        body = await _body(client, attrs.input.payloads)
        return HistoryEntry(
            at=at,
            source=workflow_id,
            what=f"signal {attrs.signal_name} {body.get('kind', '')}".strip(),
            who=str(body.get("source", "")),
            why=str(body.get("event_id", "")),
        )
    if kind in ENDS:
        name = EventType.Name(kind).removeprefix("EVENT_TYPE_WORKFLOW_EXECUTION_").lower()
        return HistoryEntry(at=at, source=workflow_id, what=f"workflow {name}")
    return None
