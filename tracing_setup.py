"""OpenTelemetry traces for every entry point (API, worker, `up`, CLI), off by default.

Configured by the standard variables: `OTEL_TRACES_EXPORTER` (`otlp`, `console` or `none`),
`OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (read by the OTLP exporter
itself, as are its headers and timeout), `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`,
`OTEL_SDK_DISABLED`. With neither an exporter nor an endpoint set, nothing here installs a
tracer provider, an interceptor or a middleware: tracing costs nothing.

The Temporal client's `TracingInterceptor` (inherited by the worker built on that client)
carries the trace from the API request into the workflow and its activities; activities read
the trace id with `current_trace_id()` so a log line, an audit event and a span join.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any

from opentelemetry import trace

if TYPE_CHECKING:
    from fastapi.telemetry import TelemetryConfig
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from temporalio.client import Interceptor

EXPORTERS = ("otlp", "console", "none")
UNTRACED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

_provider: TracerProvider | None = None


class TracingConfigError(SystemExit):
    """A misspelt exporter stops the start naming the variable, rather than tracing nothing."""


def wanted(env: Mapping[str, str]) -> bool:
    """Whether the environment asks for traces: an exporter other than `none`, or an endpoint."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    names = _exporter_names(env)
    if names == ["none"]:
        return False
    endpoint = env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    )
    return bool(names) or bool(endpoint)


def _exporter_names(env: Mapping[str, str]) -> list[str]:
    raw = env.get("OTEL_TRACES_EXPORTER", "")
    return [n.strip().lower() for n in raw.split(",") if n.strip()]


def exporters(env: Mapping[str, str]) -> list[SpanExporter]:
    """The exporters `OTEL_TRACES_EXPORTER` names; an endpoint alone means OTLP (the default)."""
    names = _exporter_names(env) or ["otlp"]
    unknown = [n for n in names if n not in EXPORTERS]
    if unknown:
        raise TracingConfigError(
            f"OTEL_TRACES_EXPORTER: unknown exporter {', '.join(unknown)} "
            f"(one of {', '.join(EXPORTERS)})"
        )
    chosen: list[SpanExporter] = []
    if "otlp" in names:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        chosen.append(OTLPSpanExporter())
    if "console" in names:
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        chosen.append(ConsoleSpanExporter())
    return chosen


def configure(service_name: str, env: Mapping[str, str] | None = None) -> bool:
    """Set tracing up from the environment, once per process; False (and a no-op) when off."""
    if _provider is not None:
        return True
    env = os.environ if env is None else env
    if not wanted(env):
        return False
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # OTEL_SERVICE_NAME, when set, names the service; Resource.create reads it.
    attributes = {} if env.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: service_name}
    provider = TracerProvider(resource=Resource.create(attributes))
    for exporter in exporters(env):
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)  # for any other library's instrumentation too
    install(provider)
    return True


def install(provider: TracerProvider) -> None:
    """Trace through `provider` from now on (what `configure` does; tests pass their own)."""
    global _provider
    _provider = provider


def uninstall() -> None:
    """Stop tracing new clients and apps (flushing what was recorded)."""
    global _provider
    if _provider is not None:
        _provider.force_flush()
    _provider = None


def active() -> bool:
    return _provider is not None


def client_interceptors() -> Sequence[Interceptor]:
    """The Temporal client's interceptors: the SDK's tracing one when tracing is on."""
    if _provider is None:
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor(_provider.get_tracer("stratgate.temporal"))]


def fastapi_telemetry() -> TelemetryConfig:
    """FastAPI's own OpenTelemetry instrumentation: one server span per request (the outermost
    layer, so the access log and the workflow start run inside it) and spans of its
    dependencies and endpoint, through our provider. Off, it is off outright: FastAPI would
    otherwise trace through any global provider another library set."""
    if _provider is None:
        return {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}
    return {
        "tracer_provider": _provider,
        "tracing": True,
        "operation_spans": True,
        # Metrics stay Prometheus's (/metrics); logs stay structlog's.
        "metrics": False,
        "logs": False,
        "exclude": _untraced,
    }


def _untraced(scope: MutableMapping[str, Any]) -> bool:
    """Probes, scrapes and static files: frequent, and no decision is made in them."""
    path = str(scope.get("path", ""))
    return path in UNTRACED_PATHS or path.startswith("/ui/static/")


def current_trace_id() -> str | None:
    """The trace id of the span this code runs in (32 hex digits), or None outside any trace."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def propagated_trace_id() -> str | None:
    """The trace id when the current span continues a trace begun elsewhere (an activity's
    span under its workflow's, carried in the activity's header). None for a root span: the
    SDK starts one per attempt when the workflow carried no trace, and a retry must write the
    same audit event as the attempt before it."""
    if getattr(trace.get_current_span(), "parent", None) is None:
        return None
    return current_trace_id()


def flush() -> None:
    """Export what is buffered; entry points that end with os._exit call it first."""
    if _provider is not None:
        _provider.force_flush()
