"""Request ids, structured access logs and Prometheus metrics."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable

import structlog
from fastapi import FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

from tracing_setup import current_trace_id

REGISTRY = CollectorRegistry()
REQUESTS = Counter(
    "stratgate_http_requests_total",
    "HTTP requests",
    ["method", "route", "status"],
    registry=REGISTRY,
)
APPROVALS = Counter("stratgate_approvals_total", "Approvals accepted", registry=REGISTRY)
DEMOTION_EVENTS = Counter("stratgate_risk_events_total", "Risk events accepted", registry=REGISTRY)
LATENCY = Histogram(
    "stratgate_http_request_seconds", "HTTP request latency", ["route"], registry=REGISTRY
)


def install(app: FastAPI) -> None:
    log = structlog.get_logger("stratgate.api")

    @app.middleware("http")
    async def request_ids(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        # The request's span when tracing is on; else the caller's traceparent or the request id.
        trace_id = (
            current_trace_id()
            or (request.headers.get("traceparent", "").split("-")[1:2] or [request_id])[0]
        )
        structlog.contextvars.bind_contextvars(request_id=request_id, trace_id=trace_id)
        start = time.perf_counter()
        try:
            response = await call_next(request)
        finally:
            structlog.contextvars.clear_contextvars()
        route = getattr(request.scope.get("route"), "path", "unmatched")
        elapsed = time.perf_counter() - start
        REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        LATENCY.labels(route).observe(elapsed)
        if route.endswith("/approve") and response.status_code == 200:
            APPROVALS.inc()
        if route.endswith("/risk-events") and response.status_code == 202:
            DEMOTION_EVENTS.inc()
        log.info(
            "http_request",
            method=request.method,
            route=route,
            status=response.status_code,
            ms=round(elapsed * 1000, 1),
            request_id=request_id,
            trace_id=trace_id,
        )
        response.headers["x-request-id"] = request_id
        return response

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
