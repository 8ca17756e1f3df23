"""Governed policy changes through the HTTP API: proposals as diffs, approvals by policy
approvers who are not the proposer (two for a LIVE weakening), every refusal a 4xx JSON body
that writes nothing, the CLI through the same API, and records citing the policy by hash."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from governance.identity import TokenKind
from governance.roles import Role
from tests.api.conftest import Api
from tests.cli.support import STRATGATE

P = "/v1/tenants/{t}/policy"


def edited(current: dict[str, Any], version: str, **changes: Any) -> dict[str, Any]:
    data = json.loads(json.dumps(current))
    data["policy_version"] = version
    for path, value in changes.items():
        node = data
        *head, last = path.split("__")
        for key in head:
            node = node[key]
        node[last] = value
    return data


async def people(api: Api) -> dict[str, dict[str, str]]:
    store, t = api.stack.store, api.stack.tenant
    await store.put_approver(t, "frank", [Role.POLICY_APPROVER])
    await store.put_approver(t, "grace", [Role.POLICY_APPROVER, Role.RISK_APPROVER])
    return {u: await api.token(u) for u in ("quant", "frank", "grace", "bob")}


async def refused(api: Api, method: str, url: str, who: dict[str, str], body: Any) -> dict:
    before = api.snapshot()
    r = await api.http.request(method, url, json=body, headers=who)
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    problem = r.json()
    assert set(problem) >= {"code", "field", "message"} and problem["message"], problem
    assert api.snapshot() == before, f"{problem['code']} wrote something"
    return {"status": r.status_code, **problem}


async def test_a_live_weakening_needs_two_policy_approvers_and_refusals_are_4xx(api: Api) -> None:
    who = await people(api)
    base = P.format(t=api.stack.tenant)
    current = (await api.http.get(base, headers=who["quant"])).json()
    weakening = edited(
        current,
        "fast.v2",
        approval_matrix__paper_to_live__roles=["risk_approver", "ops_approver"],
    )
    r = await api.http.post(
        base + "/proposals",
        json={"policy": weakening, "reason": "two final authorizers is too slow"},
        headers=who["quant"],
    )
    assert r.status_code == 201, r.text
    view = r.json()
    pid = view["proposal"]["proposal_id"]
    assert view["proposal"]["required_approvals"] == 2 and view["missing_approvals"] == 2
    assert any("weakens LIVE: fewer PAPER -> LIVE approvers" in line for line in view["diff_lines"])
    (change,) = view["proposal"]["diff"]["changes"]
    assert change["path"] == "approval_matrix.paper_to_live.roles" and change["weakens_live"]
    one = f"{base}/proposals/{pid}"
    assert (await api.http.get(one, headers=who["bob"])).json() == view

    mine = await refused(api, "POST", one + "/approve", who["quant"], {})
    assert (mine["status"], mine["code"]) == (403, "policy_self_approval")
    no_role = await refused(api, "POST", one + "/approve", who["bob"], {})
    assert (no_role["status"], no_role["code"]) == (403, "policy_role_required")
    svc = await api.token("risk-engine", kind=TokenKind.SERVICE)
    assert (await refused(api, "POST", one + "/approve", svc, {}))["status"] == 403

    first = await api.http.post(one + "/approve", json={"comment": "ok"}, headers=who["frank"])
    assert first.status_code == 200 and first.json()["proposal"]["status"] == "pending"
    still = (await api.http.get(base, headers=who["quant"])).json()
    assert still["policy_version"] == current["policy_version"]  # one approval is not enough
    again = await refused(api, "POST", one + "/approve", who["frank"], {})
    assert (again["status"], again["code"]) == (409, "policy_duplicate_approval")

    second = await api.http.post(one + "/approve", json={}, headers=who["grace"])
    assert second.status_code == 200
    published = second.json()["proposal"]
    assert published["status"] == "published"
    now = (await api.http.get(base, headers=who["quant"])).json()
    assert (
        now["policy_version"] == "fast.v2"
        and now["policy_hash"] == published["published_policy_hash"]
    )
    assert now["prev_policy_hash"] == current["policy_hash"]
    closed = await refused(api, "POST", one + "/approve", who["grace"], {})
    assert (closed["status"], closed["code"]) == (409, "policy_proposal_closed")
    assert (await api.http.get(base + "/verify", headers=who["bob"])).json()["ok"]
    events = [e.event_type for e in await api.stack.store.list_audit_events(api.stack.tenant)]
    assert events[-4:] == [
        "policy.proposed",
        "policy.approved",
        "policy.approved",
        "policy.published",
    ]

    # A published version name, a document that changes nothing, a bad field: refused.
    reuse = edited(now, "fast.v2", calendar="XLON")
    exists = await refused(
        api, "POST", base + "/proposals", who["quant"], {"policy": reuse, "reason": "again"}
    )
    assert (exists["status"], exists["code"]) == (409, "policy_version_exists")
    bad = edited(now, "fast.v3", risk_thresholds__concentration_limit=3)
    invalid = await refused(
        api, "POST", base + "/proposals", who["quant"], {"policy": bad, "reason": "bad"}
    )
    assert invalid["status"] == 422 and invalid["field"] == "risk_thresholds.concentration_limit"
    gone = await refused(api, "POST", base + "/proposals/nope/approve", who["frank"], {})
    assert (gone["status"], gone["code"]) == (404, "not_found")


async def test_stale_proposals_reject_withdraw_and_one_approval_for_a_tightening(
    api: Api,
) -> None:
    who = await people(api)
    base = P.format(t=api.stack.tenant)
    current = (await api.http.get(base, headers=who["quant"])).json()

    async def propose(version: str, by: str = "quant", **changes: Any) -> str:
        body = {"policy": edited(current, version, **changes), "reason": f"make {version}"}
        r = await api.http.post(base + "/proposals", json=body, headers=who[by])
        assert r.status_code == 201, r.text
        return str(r.json()["proposal"]["proposal_id"])

    tighten = await propose("t.v2", risk_thresholds__daily_loss_limit=0.01)
    rival = await propose("t.v3", live_controls__confirmation_token_ttl_seconds=900)
    to_withdraw = await propose("t.v4", by="grace", risk_thresholds__daily_loss_limit=0.015)
    r = await api.http.post(f"{base}/proposals/{tighten}/approve", json={}, headers=who["frank"])
    assert r.json()["proposal"]["status"] == "published"  # not a LIVE weakening: one suffices
    stale = await refused(api, "POST", f"{base}/proposals/{rival}/approve", who["grace"], {})
    assert (stale["status"], stale["code"]) == (409, "policy_proposal_stale")
    not_theirs = await refused(
        api, "POST", f"{base}/proposals/{to_withdraw}/withdraw", who["quant"], {}
    )
    assert not_theirs["status"] == 403
    r = await api.http.post(
        f"{base}/proposals/{to_withdraw}/withdraw",
        json={"comment": "not now"},
        headers=who["grace"],
    )
    assert r.json()["proposal"]["status"] == "withdrawn"
    r = await api.http.post(
        f"{base}/proposals/{rival}/reject", json={"comment": "stale"}, headers=who["frank"]
    )
    assert r.json()["proposal"]["status"] == "rejected"
    listed = (await api.http.get(base + "/proposals", headers=who["bob"])).json()
    assert [v["proposal"]["status"] for v in listed] == ["published", "rejected", "withdrawn"]
    versions = (await api.http.get(base + "/versions", headers=who["bob"])).json()
    assert [v["policy_version"] for v in versions][-1] == "t.v2"


async def test_records_cite_the_policy_in_force_by_hash(api: Api) -> None:
    svc = await api.token("risk-engine", kind=TokenKind.SERVICE)
    tenant = api.stack.tenant
    body = {"event_id": "e1", "uid": "quant", "strategy_id": "momo", "kind": "drawdown_breaker"}
    r = await api.http.post(f"/v1/tenants/{tenant}/risk-events", json=body, headers=svc)
    assert r.status_code == 202, r.text
    (record,) = await api.stack.wait_records("momo", 1)
    policy = await api.stack.store.get_policy(tenant)
    assert policy is not None and policy.policy_hash
    assert record.policy_hash == policy.policy_hash


async def cli(home: Path, url: str, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`stratgate policy ...` in a thread: the served API runs on this test's event loop."""
    env = {**os.environ, "STRATGATE_HOME": str(home), "STRATGATE_TOKEN": token}
    return await asyncio.to_thread(
        subprocess.run,
        [str(STRATGATE), "policy", *args, "--api", url],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


async def test_the_cli_proposes_and_approves_through_the_api(
    api: Api, served: str, tmp_path: Path
) -> None:
    who = await people(api)
    tenant = api.stack.tenant
    current = (await api.http.get(P.format(t=tenant), headers=who["quant"])).json()
    file = tmp_path / "v2.json"
    file.write_text(json.dumps(edited(current, "cli.v2", live_controls__enablement_seconds=7200)))
    token = {u: h["authorization"].split()[1] for u, h in who.items()}
    made = await cli(
        tmp_path,
        served,
        token["quant"],
        "propose",
        "--tenant",
        tenant,
        str(file),
        "--reason",
        "shorter LIVE enablement",
    )
    assert made.returncode == 0, made.stderr
    assert "~ live_controls.enablement_seconds: 86400 -> 7200" in made.stdout
    assert "weakens LIVE" not in made.stdout and "0/1 approvals" in made.stdout
    pid = made.stdout.split()[1].rstrip(":")
    mine = await cli(tmp_path, served, token["quant"], "approve-proposal", pid, "--tenant", tenant)
    assert mine.returncode == 2 and "policy_self_approval" in mine.stderr
    done = await cli(
        tmp_path, served, token["frank"], "approve-proposal", pid, "--tenant", tenant, "--json"
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["proposal"]["status"] == "published"
