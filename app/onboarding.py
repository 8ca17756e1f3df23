"""Onboarding a fleet: a file (or an API batch) of strategies registered together, each with its
`strategy.registered` event, or none of them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from app.ports import Ports
from governance.identity import Principal, require_person, require_tenant
from governance.onboarding import (
    OnboardingRow,
    RowFormat,
    batch_registration,
    parse_rows,
    validate_rows,
)


class Onboarded(BaseModel):
    tenant_id: str
    registered: int
    batch: str  # the file's digest, in each registered event's details


async def register_rows(
    ports: Ports, who: Principal, *, tenant_id: str, rows: Sequence[Mapping[str, Any]]
) -> Onboarded:
    """Rows as sent (a file's, an API batch's): who may register one may register many."""
    require_tenant(who, tenant_id)
    require_person(who)
    return await _register(ports, tenant_id, validate_rows(rows))


async def register_file(
    ports: Ports, who: Principal, *, tenant_id: str, data: bytes, fmt: RowFormat
) -> Onboarded:
    require_tenant(who, tenant_id)
    require_person(who)
    return await _register(ports, tenant_id, parse_rows(data, fmt))


async def _register(ports: Ports, tenant_id: str, rows: list[OnboardingRow]) -> Onboarded:
    docs, events = batch_registration(tenant_id, rows, ports.now())
    await ports.store.register_strategies(docs, events)
    return Onboarded(tenant_id=tenant_id, registered=len(docs), batch=events[0].details["batch"])
