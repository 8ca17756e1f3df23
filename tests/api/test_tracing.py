"""One promotion through the real API, workflow and activities, traced and not: with tracing on,
the request's span, the workflow's and its activities' share one trace, and the stage change's
log line and its audit event carry that trace's id; with it off nothing is exported and the
trace id falls back to the correlation id as before."""

from __future__ import annotations

import io
import json
import secrets
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import Client

import tracing_setup
from api.app import create_app
from api.deps import ApiDeps
from governance.identity import TokenKind, new_token_record
from governance.promotion import Phase
from governance.records import AuditEvent
from governance.stages import LifecycleStage as S
from logging_setup import configure
from store.sqlite import SqliteStore
from tests.workflows.evidence_fixtures import seed_evidence
from tests.workflows.harness import SIGNER, Stack, fast_policy


@dataclass
class Run:
    """What one promotion through the API left behind."""

    request_id: str
    logs: list[dict[str, object]]
    promoted: AuditEvent


Promote = Callable[[], Awaitable[Run]]


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure(stream=stream)
    try:
        yield stream
    finally:
        configure(stream=sys.stderr)


SPANS = InMemorySpanExporter()
PROVIDER = TracerProvider()
PROVIDER.add_span_processor(SimpleSpanProcessor(SPANS))


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    """The process's global tracer provider exports here too: a span that anything made with
    tracing off (an interceptor or middleware that defaults to the global provider) shows."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(PROVIDER)
    SPANS.clear()
    yield SPANS
    tracing_setup.uninstall()
    SPANS.clear()


async def token(store: SqliteStore, tenant: str, user: str) -> dict[str, str]:
    secret = secrets.token_urlsafe(16)
    await store.put_api_token(
        new_token_record(
            token=secret,
            kind=TokenKind.PERSONAL,
            tenant_id=tenant,
            subject=user,
            now=datetime.now(UTC),
            ttl_seconds=3600,
        )
    )
    return {"authorization": f"Bearer {secret}"}


@pytest.fixture
async def promote(
    client: Client,
    sqlite_store: SqliteStore,
    task_queue: str,
    tenant: str,
    tmp_path: Path,
    log_output: io.StringIO,
) -> AsyncIterator[Promote]:
    """Runs SHADOW -> PAPER through the API with the clients and app built as an entry point
    builds them: after tracing was (or was not) installed."""

    async def run() -> Run:
        # The session's connection, with the interceptors `workflows.client.connect` adds.
        config = client.config()
        config["interceptors"] = tracing_setup.client_interceptors()
        ours = Client(**config)
        stack = Stack(ours, sqlite_store, task_queue, tenant, tmp_path)
        await stack.seed(fast_policy(), {"edge": S.SHADOW})
        evaluator = seed_evidence(tmp_path / "evidence", tenant, {"edge": 0.6})
        app = create_app(
            ApiDeps(store=sqlite_store, client=ours, task_queue=task_queue, signer=SIGNER)
        )
        base = f"/v1/tenants/{tenant}"
        one = base + "/strategies/quant/edge/promotion"
        async with (
            stack.worker(evaluator),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://stratgate.test"
            ) as http,
        ):
            quant = await token(sqlite_store, tenant, "quant")
            body = {"uid": "quant", "strategy_id": "edge", "to_stage": "PAPER"}
            created = await http.post(base + "/promotion-requests", json=body, headers=quant)
            assert created.status_code == 201, created.text
            status = await stack.wait_phase("edge", Phase.AWAITING_APPROVALS)
            assert status.report is not None
            for user, role in (("bob", "risk_approver"), ("carol", "ops_approver")):
                approval = {"role": role, "metrics_hash": status.report.metrics_hash}
                r = await http.post(
                    one + "/approve", json=approval, headers=await token(sqlite_store, tenant, user)
                )
                assert r.status_code == 200, r.text
            assert (await stack.outcome("edge")).phase == Phase.COMMITTED
        (record,) = await sqlite_store.list_records(tenant, "quant", "edge")
        events = await sqlite_store.list_audit_events(tenant)
        (promoted,) = [e for e in events if e.event_type == "strategy.promoted"]
        assert promoted.details["promotion_record_id"] == record.record_id
        lines = [json.loads(x) for x in log_output.getvalue().splitlines() if x.startswith("{")]
        return Run(request_id=str(record.request_id), logs=lines, promoted=promoted)

    yield run


def hex_id(span: ReadableSpan) -> str:
    assert span.context is not None
    return format(span.context.trace_id, "032x")


def one_span(spans: list[ReadableSpan], name: str) -> ReadableSpan:
    found = [s for s in spans if s.name == name]
    assert len(found) == 1, (name, sorted({s.name for s in spans}))
    return found[0]


def ancestors(span: ReadableSpan, spans: list[ReadableSpan]) -> list[int]:
    by_id = {s.context.span_id: s for s in spans if s.context is not None}
    found, parent = [], span.parent
    while parent is not None:
        found.append(parent.span_id)
        parent = by_id[parent.span_id].parent if parent.span_id in by_id else None
    return found


def stage_change_line(run: Run) -> dict[str, object]:
    (line,) = [e for e in run.logs if e.get("event") == "stage_change"]
    return line


async def test_one_trace_joins_the_request_the_workflow_its_activities_log_and_audit(
    promote: Promote, exporter: InMemorySpanExporter
) -> None:
    tracing_setup.install(PROVIDER)
    run = await promote()
    spans = list(exporter.get_finished_spans())
    request = one_span(spans, "POST /v1/tenants/{tenant}/promotion-requests")
    trace_id = hex_id(request)
    started = one_span(spans, "StartWorkflow:PromotionWorkflow")
    run_workflow = [s for s in spans if s.name == "RunWorkflow:PromotionWorkflow"]
    commit = one_span(spans, "RunActivity:commit_stage_change")
    activities = [s for s in spans if s.name.startswith("RunActivity:")]
    assert run_workflow and len(activities) >= 3, sorted({s.name for s in spans})
    for span in [started, commit, *run_workflow, *activities]:
        assert hex_id(span) == trace_id, span.name
    assert request.context is not None and request.context.span_id in ancestors(started, spans)

    line = stage_change_line(run)
    assert line["trace_id"] == trace_id
    assert line["correlation_id"] == run.request_id  # the correlation id is unchanged
    assert run.promoted.trace_id == trace_id
    assert run.promoted.correlation_id == run.request_id
    (access,) = [
        e
        for e in run.logs
        if e.get("event") == "http_request" and str(e.get("route")).endswith("/promotion-requests")
    ]
    assert access["trace_id"] == trace_id


async def test_with_tracing_off_nothing_is_exported_and_the_trace_id_is_the_correlation_id(
    promote: Promote, exporter: InMemorySpanExporter
) -> None:
    assert not tracing_setup.active()
    run = await promote()
    assert exporter.get_finished_spans() == (), [s.name for s in exporter.get_finished_spans()]
    line = stage_change_line(run)
    assert line["trace_id"] == line["correlation_id"] == run.request_id
    assert run.promoted.trace_id is None  # as before tracing existed
    assert run.promoted.correlation_id == run.request_id
