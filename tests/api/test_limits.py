"""Bounded input: risk-event details, body size and JSON nesting are refused with a 4xx JSON
body naming the field and the reason, through the app and through a real uvicorn."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from governance.bounds import BODY_MAX_BYTES, DETAILS_MAX_BYTES
from governance.identity import TokenKind
from tests.api.conftest import Api
from tests.governance.test_bounds import nested


def event(event_id: str, strategy: str = "calm", **extra: Any) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "uid": "quant",
        "strategy_id": strategy,
        "kind": "circuit_breaker_warning",
        **extra,
    }


JSON = {"content-type": "application/json"}


def deep(depth: int) -> bytes:
    return ("[" * depth + "]" * depth).encode()


async def test_details_out_of_bounds_are_refused_naming_field_and_reason(api: Api) -> None:
    url = f"/v1/tenants/{api.stack.tenant}/risk-events"
    svc = {**await api.token("risk-engine", kind=TokenKind.SERVICE), **JSON}
    before = api.snapshot()
    cases = [
        (nested(9), "nesting depth 9 exceeds the limit of 8"),
        (
            {"blob": "x" * DETAILS_MAX_BYTES},
            "16395 bytes of canonical JSON exceeds the limit of 16384 bytes",
        ),
        ({"n": 2**60}, "not canonical JSON"),
        ({"\ud800": 1}, "not canonical JSON"),  # a lone surrogate, named as such
    ]
    for details, reason in cases:
        # json.dumps escapes a lone surrogate (\ud800), as a sender's encoder may.
        one = await api.http.post(
            url, content=json.dumps(event("e1", details=details)), headers=svc
        )
        batch = await api.http.post(
            url, content=json.dumps([event("e0"), event("e1", details=details)]), headers=svc
        )
        for r, field in ((one, "details"), (batch, "1.details")):
            assert r.status_code == 422, r.text
            assert r.json()["code"] == "invalid_request"
            assert r.json()["field"] == field and reason in r.json()["message"], r.json()
    assert api.snapshot() == before
    # At the limits the event is accepted, and kept with its details.
    details = {"deep": nested(7), "blob": "x" * (DETAILS_MAX_BYTES - 200)}
    r = await api.http.post(url, json=event("e2", details=details), headers=svc)
    assert r.status_code == 202, r.text
    stored = await wait_risk_events(api, "calm", 1)
    assert stored[0].details == details


async def test_bodies_over_the_limit_get_413_declared_or_streamed(api: Api) -> None:
    url = f"/v1/tenants/{api.stack.tenant}/risk-events"
    svc = {**await api.token("risk-engine", kind=TokenKind.SERVICE), **JSON}
    before = api.snapshot()
    big = json.dumps(event("e1", details={"x": "y" * BODY_MAX_BYTES})).encode()
    declared = await api.http.post(url, content=big, headers=svc)
    assert declared.status_code == 413
    assert declared.json() == {
        "code": "payload_too_large",
        "field": "body",
        "message": f"request body of {len(big)} bytes exceeds the limit of {BODY_MAX_BYTES} bytes",
    }
    streamed = await api.http.post(url, content=chunks(big), headers=svc)
    assert streamed.status_code == 413 and streamed.json()["code"] == "payload_too_large"
    assert f"more than {BODY_MAX_BYTES} bytes" in streamed.json()["message"]
    assert api.snapshot() == before
    # Just under the limit, a batch of full-size details goes through.
    batch = [event(f"b{i}", details={"x": "y" * (DETAILS_MAX_BYTES - 100)}) for i in range(15)]
    body = json.dumps(batch).encode()
    assert BODY_MAX_BYTES - 20_000 < len(body) < BODY_MAX_BYTES
    r = await api.http.post(url, content=body, headers=svc)
    assert r.status_code == 202, r.text
    assert len(r.json()["accepted"]) == 15


@pytest.mark.parametrize("depth", [300, 900, 10_000])
async def test_deeply_nested_json_is_a_422_naming_the_reason(api: Api, depth: int) -> None:
    base = f"/v1/tenants/{api.stack.tenant}"
    svc, quant = await api.token("risk-engine", kind=TokenKind.SERVICE), await api.token("quant")
    before = api.snapshot()
    bodies = [deep(depth), ('{"a":' * depth + "1" + "}" * depth).encode()]
    for path, who in ((base + "/risk-events", svc), (base + "/promotion-requests", quant)):
        for body in bodies:
            r = await api.http.post(path, content=body, headers={**who, **JSON})
            assert r.status_code == 422, r.text
            assert r.json() == {
                "code": "invalid_request",
                "field": "body",
                "message": f"nesting depth {depth} exceeds the limit of 32",
            }
    assert api.snapshot() == before


async def test_a_real_server_answers_every_refusal_without_dropping_the_connection(
    api: Api, served: str
) -> None:
    url = f"{served}/v1/tenants/{api.stack.tenant}/risk-events"
    svc = {**await api.token("risk-engine", kind=TokenKind.SERVICE), **JSON}
    before = api.snapshot()
    big = b'{"pad": "' + b"x" * (4 * BODY_MAX_BYTES) + b'"}'
    async with httpx.AsyncClient(timeout=30) as http:
        declared = await http.post(url, content=big, headers=svc)
        assert declared.status_code == 413 and declared.json()["code"] == "payload_too_large"
        streamed = await http.post(url, content=chunks(big), headers=svc)
        assert streamed.status_code == 413 and streamed.json()["code"] == "payload_too_large"
        for depth in (300, 900, 10_000):
            r = await http.post(url, content=deep(depth), headers=svc)
            assert r.status_code == 422 and r.json()["field"] == "body", r.text
        # Headers too large for the server itself: its own refusal (plain text, before the
        # app), a 4xx all the same.
        huge = await http.get(url, headers={"authorization": "Bearer " + "A" * 1_000_000})
        assert huge.status_code == 400, huge.text
        assert api.snapshot() == before
        # And an ordinary request still gets through.
        r = await http.post(url, json=event("ok-1"), headers=svc)
        assert r.status_code == 202, r.text
    assert [e.event_id for e in await wait_risk_events(api, "calm", 1)] == ["ok-1"]


async def chunks(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def wait_risk_events(api: Api, strategy: str, n: int, timeout: float = 20.0) -> list[Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        found = await api.stack.store.list_risk_events(api.stack.tenant, "quant", strategy)
        if len(found) >= n:
            return found
        assert loop.time() < deadline, f"{len(found)} of {n} risk events stored"
        await asyncio.sleep(0.1)
