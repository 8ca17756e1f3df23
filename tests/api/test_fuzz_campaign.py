"""A fuzz campaign against every route of the real app (real worker, Temporal, SQLite).

Short by default (~300 requests); `STRATGATE_CAMPAIGN=long` sends 5,000 and
`STRATGATE_CAMPAIGN_SEED` picks the seed. Holds for every request: no status >= 500, every
4xx is JSON with a `code`, and a refused request leaves every row of the store as it was.
`pytest -s` shows the counts.
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Route as StarletteRoute
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from activities.contracts import EvaluateInput
from api.app import create_app
from api.deps import ApiDeps
from governance.identity import TokenKind, new_token_record
from governance.promotion import demotion_workflow_id, promotion_workflow_id
from governance.report import EligibilityReport
from governance.risk_events import StoredRiskEvent
from governance.stages import LifecycleStage as S
from store.sqlite import SqliteStore
from tests.api.conftest import Api
from tests.api.hostile import Hostile, Hostiles, Route
from tests.workflows.harness import SIGNER, Stack, fast_policy

LONG = os.environ.get("STRATGATE_CAMPAIGN", "").lower() == "long"
REQUESTS = 5_000 if LONG else 300
SEED = int(os.environ.get("STRATGATE_CAMPAIGN_SEED", "20261202"))
STRATEGIES = ("momo", "calm")


def no_evidence(inp: EvaluateInput, risk: list[StoredRiskEvent]) -> EligibilityReport:
    # Fails at once, before writing anything: a promotion the campaign starts only waits.
    raise ApplicationError("the fuzz campaign has no evidence", non_retryable=True)


@pytest.fixture
async def campaign(
    client: Client, sqlite_store: SqliteStore, task_queue: str, tenant: str, tmp_path: Path
) -> AsyncIterator[tuple[Api, list[str]]]:
    stack = Stack(client, sqlite_store, task_queue, tenant, tmp_path)
    await stack.seed(fast_policy(), {"momo": S.PAPER, "calm": S.SHADOW})
    tokens = []
    for user, kind, where in (
        ("quant", TokenKind.PERSONAL, tenant),
        ("bob", TokenKind.PERSONAL, tenant),  # a risk approver
        ("root", TokenKind.PERSONAL, tenant),  # a tenant admin
        ("risk-engine", TokenKind.SERVICE, tenant),
        ("alice", TokenKind.PERSONAL, "elsewhere"),
    ):
        tokens.append(secrets.token_urlsafe(16))
        await sqlite_store.put_api_token(
            new_token_record(
                token=tokens[-1],
                kind=kind,
                tenant_id=where,
                subject=user,
                now=datetime.now(UTC),
                ttl_seconds=3600,
            )
        )
    app = create_app(
        ApiDeps(store=sqlite_store, client=client, task_queue=task_queue, signer=SIGNER)
    )
    transport = httpx.ASGITransport(app=app)
    async with (
        stack.worker(no_evidence),
        httpx.AsyncClient(transport=transport, base_url="http://stratgate.test") as http,
    ):
        yield Api(http, stack, app), [*tokens, "not-a-token", "a.b.c"]


def every_route(app: FastAPI) -> list[Route]:
    """The app's own routes (the web UI's and the docs' too) and the API's from its schema."""
    found = {
        Route(r.path, frozenset(r.methods or ()), form=r.path.startswith("/ui/"))
        for r in app.routes
        if isinstance(r, APIRoute | StarletteRoute)
    }
    for path, operations in app.openapi()["paths"].items():
        found.add(Route(path, frozenset(m.upper() for m in operations)))
    return sorted(found, key=lambda r: (r.path, sorted(r.methods)))


async def test_fuzz_campaign(campaign: tuple[Api, list[str]]) -> None:
    api, tokens = campaign
    routes = every_route(api.app)
    assert {"/v1/tenants/{tenant}/risk-events", "/ui/requests/{uid}/{strategy_id}/approve"} <= {
        r.path for r in routes
    }
    hostiles = Hostiles(random.Random(SEED), routes, api.stack.tenant, tokens)
    statuses: Counter[int] = Counter()
    accepted_writes = 0
    baseline = api.snapshot()
    for index in range(REQUESTS):
        hostile = hostiles.next()
        where = f"request {index} of seed {SEED}: {hostile.describe()}"
        try:
            response = await send(api.http, hostile)
        except Exception as exc:  # the app raised: a real server would answer 500
            raise AssertionError(f"{where}\n-> the app raised {exc!r}") from exc
        statuses[response.status_code] += 1
        assert response.status_code < 500, f"{where}\n-> {response.status_code} {response.text}"
        if 400 <= response.status_code < 500:
            if hostile.method != "HEAD" and not is_ui_page(hostile, response):
                problem = response.json()
                assert isinstance(problem, dict) and problem.get("code"), f"{where}\n{problem}"
            assert api.snapshot() == baseline, f"{where}\nwrote to the store on a refusal"
        elif hostile.method != "GET":
            accepted_writes += 1
            await settle(api)  # what the accepted request started, done before the next one
            baseline = api.snapshot()
    print(
        f"\nfuzz campaign (seed {SEED}): {REQUESTS} requests over {len(routes)} routes; "
        f"accepted non-GET: {accepted_writes}; by status: "
        + ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items()))
    )
    assert sum(n for s, n in statuses.items() if s >= 400) > REQUESTS / 2  # hostile indeed


async def send(http: httpx.AsyncClient, hostile: Hostile) -> httpx.Response:
    return await http.request(
        hostile.method,
        hostile.path,
        params=hostile.params,
        headers=hostile.headers,
        content=hostile.content,
    )


def is_ui_page(hostile: Hostile, response: httpx.Response) -> bool:
    """A page of the web UI for a person (a 404 for an unknown strategy): HTML, by design."""
    return hostile.path.startswith("/ui/") and response.headers.get("content-type", "").startswith(
        "text/html"
    )


async def settle(api: Api, timeout: float = 30.0) -> None:
    """Wait until the strategies' workflows have nothing left to do but wait.

    An evaluation still retrying counts as waiting: the campaign's evaluator writes nothing.
    """
    stack = api.stack
    ids = [
        make(stack.tenant, "quant", s)
        for s in STRATEGIES
        for make in (promotion_workflow_id, demotion_workflow_id)
    ]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    quiet = 0
    while quiet < 3:
        busy = [i for i in ids if await _busy(stack.client, i)]
        quiet = 0 if busy else quiet + 1
        assert loop.time() < deadline, f"workflows still busy after {timeout}s: {busy}"
        await asyncio.sleep(0.05)


async def _busy(client: Client, workflow_id: str) -> bool:
    try:
        described = await client.get_workflow_handle(workflow_id).describe()
    except RPCError:
        return False  # never started
    if described.status != WorkflowExecutionStatus.RUNNING:
        return False
    raw = described.raw_description
    pending = [a.activity_type.name for a in raw.pending_activities]
    return raw.HasField("pending_workflow_task") or any(
        name != "evaluate_eligibility" for name in pending
    )
