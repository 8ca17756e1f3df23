"""API tests: the real app over ASGI, a real worker on the session's Temporal server, SQLite."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client

from api.app import create_app
from api.deps import ApiDeps
from governance.identity import TokenKind, new_token_record
from governance.stages import LifecycleStage as S
from store.sqlite import SqliteStore
from tests.workflows.harness import Stack, fast_policy
from tests.workflows.test_demotion import no_evidence_needed


@dataclass
class Api:
    http: httpx.AsyncClient
    stack: Stack

    async def token(
        self,
        user: str,
        kind: TokenKind = TokenKind.PERSONAL,
        tenant: str | None = None,
        ttl: int = 3600,
        now: datetime | None = None,
    ) -> dict[str, str]:
        token = secrets.token_urlsafe(16)
        await self.stack.store.put_api_token(
            new_token_record(
                token=token,
                kind=kind,
                tenant_id=tenant or self.stack.tenant,
                subject=user,
                now=now or datetime.now(UTC),
                ttl_seconds=ttl,
            )
        )
        return {"authorization": f"Bearer {token}"}

    async def counts(self) -> tuple[int, int, int]:
        t = self.stack.tenant
        store = self.stack.store
        return (
            len(await store.list_records(t)),
            len(await store.list_audit_events(t)),
            len(await store.list_requests(t)),
        )


@pytest.fixture
async def api(
    client: Client, sqlite_store: SqliteStore, task_queue: str, tenant: str, tmp_path: Path
) -> AsyncIterator[Api]:
    stack = Stack(client, sqlite_store, task_queue, tenant, tmp_path)
    await stack.seed(fast_policy(), {"momo": S.PAPER, "calm": S.SHADOW})
    app = create_app(ApiDeps(store=sqlite_store, client=client, task_queue=task_queue))
    transport = httpx.ASGITransport(app=app)
    async with (
        stack.worker(no_evidence_needed),
        httpx.AsyncClient(transport=transport, base_url="http://stratgate.test") as http,
    ):
        yield Api(http, stack)


def expired() -> datetime:
    return datetime.now(UTC) - timedelta(days=2)
