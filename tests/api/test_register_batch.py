"""`POST /v1/tenants/{t}/strategies`: a fleet in one body, every row with its audit event or
none; and `stratgate strategy register --from FILE --api URL` through it."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path
from typing import Any

from governance.audit_chain import verify_audit_chain
from governance.identity import TokenKind
from tests.api.conftest import Api
from tests.cli.support import STRATGATE

P = "/v1/tenants/{t}/strategies"


def rows(n: int) -> list[dict[str, Any]]:
    return [
        {"uid": f"desk{i % 4}", "strategy_id": f"f{i}", "stage": "SHADOW", "since": None}
        for i in range(1, n + 1)
    ]


async def written(api: Api) -> tuple[int, int, bool]:
    """Strategies registered by the fleet, audit events, and whether the chain verifies."""
    t, store = api.stack.tenant, api.stack.store
    events = await store.list_audit_events(t)
    chain = verify_audit_chain(events, await store.get_audit_head(t)).ok
    fleet = [d for d in await store.list_strategies(t) if d.strategy_id.startswith("f")]
    return len(fleet), len(events), chain


async def test_a_batch_lands_each_row_with_its_event(api: Api) -> None:
    tenant = api.stack.tenant
    before = await written(api)
    quant = await api.token("quant")
    r = await api.http.post(P.format(t=tenant), json={"rows": rows(400)}, headers=quant)
    assert r.status_code == 201, r.text
    assert r.json()["registered"] == 400 and len(r.json()["batch"]) == 64
    assert await written(api) == (400, before[1] + 400, True)
    listed = (await api.http.get(P.format(t=tenant), headers=quant)).json()
    assert sum(1 for d in listed if d["strategy_id"].startswith("f")) == 400


async def test_a_bad_row_refuses_the_batch_naming_row_and_field(api: Api) -> None:
    tenant = api.stack.tenant
    quant = await api.token("quant")
    before = await written(api)
    snapshot = api.snapshot()
    for row, field in [
        ({"uid": "desk", "strategy_id": "f50", "stage": "MOON"}, "rows[50].stage"),
        (
            {"uid": "desk", "strategy_id": "f50", "stage": "PAPER", "since": "noon"},
            "rows[50].since",
        ),
        ({"uid": "desk", "strategy_id": "f50", "stage": "PAPER", "extra": 1}, "rows[50].extra"),
        ({"strategy_id": "f50", "stage": "PAPER"}, "rows[50].uid"),
        ("f50", "rows[50].row"),
        ({"uid": "desk2", "strategy_id": "f2", "stage": "PAPER"}, "rows[50].strategy_id"),
    ]:
        body = rows(100)
        body[49] = row  # type: ignore[call-overload]
        r = await api.http.post(P.format(t=tenant), json={"rows": body}, headers=quant)
        assert r.status_code == 422, r.text
        assert r.json()["field"] == field and "row 50" in r.json()["message"], r.json()
    # A strategy already registered (seeded by the fixture) is a conflict, naming its row.
    body = rows(100)
    body[69] = {"uid": "quant", "strategy_id": "momo", "stage": "PAPER"}
    r = await api.http.post(P.format(t=tenant), json={"rows": body}, headers=quant)
    assert r.status_code == 409 and r.json()["field"] == "rows[70].strategy_id", r.text
    assert api.snapshot() == snapshot  # nothing written, not a row, not an event
    assert await written(api) == before


async def test_who_may_register_a_fleet(api: Api) -> None:
    tenant = api.stack.tenant
    body = {"rows": rows(3)}
    assert (await api.http.post(P.format(t=tenant), json=body)).status_code == 401
    service = await api.token("risk-system", TokenKind.SERVICE)
    assert (await api.http.post(P.format(t=tenant), json=body, headers=service)).status_code == 403
    elsewhere = await api.token("quant", tenant=f"{tenant}-other")
    r = await api.http.post(P.format(t=tenant), json=body, headers=elsewhere)
    assert r.status_code == 403
    assert (await written(api))[0] == 0


async def test_the_body_is_bounded(api: Api) -> None:
    tenant = api.stack.tenant
    quant = await api.token("quant")
    # Larger than other routes take (a 10,000-row fleet is ~1 MB) ...
    r = await api.http.post(P.format(t=tenant), json={"rows": rows(6000)}, headers=quant)
    assert r.status_code == 201, r.text
    # ... but bounded all the same.
    huge = {"rows": [{"uid": "d", "strategy_id": "x" * 190, "stage": "PAPER"}] * 50_000}
    r = await api.http.post(P.format(t=tenant), json=huge, headers=quant)
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large", r.text
    other = f"/v1/tenants/{tenant}/risk-events"
    r = await api.http.post(other, json=[{"x": "y" * 1000}] * 400, headers=quant)
    assert r.status_code == 413  # every other route keeps its own limit


async def test_the_cli_registers_a_file_through_the_api(
    api: Api, served: str, tmp_path: Path
) -> None:
    token = (await api.token("quant"))["authorization"].split()[1]
    path = tmp_path / "fleet.csv"
    path.write_text(
        "uid,strategy_id,stage,since\n" + "".join(f"q,f{i},PAPER,\n" for i in range(250))
    )
    env = {**os.environ, "STRATGATE_HOME": str(tmp_path), "STRATGATE_TOKEN": token}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [str(STRATGATE), "strategy", "register", "--tenant", api.stack.tenant, *args]
        return subprocess.run(
            [*command, "--api", served], capture_output=True, text=True, env=env, timeout=60
        )

    done = await asyncio.to_thread(cli, "--from", str(path))
    assert done.returncode == 0 and "registered 250 strategies" in done.stdout, done.stderr
    assert (await written(api))[0] == 250
    path.write_text("uid,strategy_id,stage,since\nq,g1,PAPER,\nq,g2,SIDEWAYS,\n")
    bad = await asyncio.to_thread(cli, "--from", str(path))
    assert bad.returncode == 2 and "rows[2].stage" in bad.stderr, bad.stderr
    one = await asyncio.to_thread(cli, "--uid", "q", "--strategy", "f-single", "--stage", "LIVE")
    assert one.returncode == 0 and "registered 1 strategy" in one.stdout, one.stderr
    assert (await written(api))[0] == 251
