"""Tracing's set-up from the standard OTEL_* variables: a no-op unless asked for, and, asked
for, a real exporter in a fresh process (the global tracer provider is set once per process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import tracing_setup

ROOT = Path(__file__).resolve().parents[1]


def test_unset_variables_set_nothing_up() -> None:
    assert not tracing_setup.wanted({})
    assert tracing_setup.configure("stratgate-test", env={}) is False
    assert not tracing_setup.active()
    assert tracing_setup.client_interceptors() == []
    assert tracing_setup.fastapi_telemetry() == {
        "tracing": False,
        "metrics": False,
        "logs": False,
        "operation_spans": False,
    }
    assert tracing_setup.current_trace_id() is None


@pytest.mark.parametrize(
    ("env", "wanted"),
    [
        ({"OTEL_TRACES_EXPORTER": "none"}, False),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, False),
        ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}, False),
        ({"OTEL_SERVICE_NAME": "only-a-name"}, False),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
    ],
)
def test_what_turns_tracing_on(env: dict[str, str], wanted: bool) -> None:
    assert tracing_setup.wanted(env) is wanted


def test_an_endpoint_alone_means_otlp_and_a_misspelt_exporter_names_the_variable() -> None:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter

    (alone,) = tracing_setup.exporters({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"})
    assert isinstance(alone, OTLPSpanExporter)
    both = tracing_setup.exporters({"OTEL_TRACES_EXPORTER": "console,otlp"})
    assert sorted(type(e).__name__ for e in both) == ["ConsoleSpanExporter", "OTLPSpanExporter"]
    assert isinstance(both[1], ConsoleSpanExporter)
    with pytest.raises(tracing_setup.TracingConfigError, match=r"OTEL_TRACES_EXPORTER.*otlpp"):
        tracing_setup.exporters({"OTEL_TRACES_EXPORTER": "otlpp"})


PROBE = """
import tracing_setup
from opentelemetry import trace
on = tracing_setup.configure("stratgate-probe")
with trace.get_tracer("probe").start_as_current_span("probe-span"):
    inside = tracing_setup.current_trace_id()
tracing_setup.flush()
print("RESULT", on, inside, len(tracing_setup.client_interceptors()), flush=True)
"""


def probe(env: dict[str, str]) -> tuple[list[str], str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**clean, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    (result,) = [line for line in done.stdout.splitlines() if line.startswith("RESULT")]
    return result.split()[1:], done.stdout


def test_console_exporter_exports_the_span_named_by_the_service() -> None:
    (on, trace_id, interceptors), out = probe(
        {"OTEL_TRACES_EXPORTER": "console", "OTEL_SERVICE_NAME": "desk-7"}
    )
    assert (on, interceptors) == ("True", "1")
    exported = json.loads(out[out.index("{") : out.rindex("}") + 1])
    assert exported["name"] == "probe-span"
    assert exported["context"]["trace_id"] == f"0x{trace_id}"
    assert exported["resource"]["attributes"]["service.name"] == "desk-7"


def test_without_variables_a_fresh_process_exports_nothing() -> None:
    (on, trace_id, interceptors), out = probe({})
    assert (on, trace_id, interceptors) == ("False", "None", "0")
    assert "probe-span" not in out
