"""Decision replay on real promotions: a committed record explains itself equal, and a missing
file, an altered file or a different policy under the cited version is named."""

from __future__ import annotations

import json
import secrets
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pyarrow.parquet as pq

from activities.evidence_evaluator import EvidenceEvaluator
from api.app import create_app
from api.deps import ApiDeps
from app.explain import explain_record
from app.ports import Ports
from governance.identity import Principal, TokenKind, new_token_record
from governance.promotion import Phase
from governance.replay import Explanation, FileStatus
from governance.risk_events import RiskEventKind as K
from governance.roles import Role
from governance.stages import Decision
from governance.stages import LifecycleStage as S
from store import paths
from tests.cli.support import sg
from tests.workflows.evidence_fixtures import seed_evidence
from tests.workflows.harness import Stack, fast_policy


async def explain(stack: Stack, record_id: str) -> Explanation:
    ports = Ports(
        store=stack.store,
        client=None,
        task_queue=stack.task_queue,
        evaluations=EvidenceEvaluator(stack.tmp / "evidence"),
    )
    who = Principal(tenant_id=stack.tenant, subject="compliance", kind=TokenKind.PERSONAL)
    return await explain_record(ports, who, tenant_id=stack.tenant, record_id=record_id)


async def promoted(stack: Stack) -> str:
    await stack.seed(fast_policy(), {"edge": S.OBSERVE})
    evaluator = seed_evidence(stack.tmp / "evidence", stack.tenant, {"edge": 0.6})
    async with stack.worker(evaluator):
        await stack.request("edge", S.SHADOW)
        await stack.wait_phase("edge", Phase.AWAITING_APPROVALS)
        await stack.approve("edge", "alice", Role.STRATEGY_REVIEWER)
        assert (await stack.outcome("edge")).phase == Phase.COMMITTED
    (record,) = await stack.store.list_records(stack.tenant, "quant", "edge")
    return record.record_id


async def through_the_api_and_the_ui(stack: Stack, record_id: str) -> None:
    app = create_app(
        ApiDeps(
            store=stack.store,
            client=None,
            task_queue=stack.task_queue,
            evaluations=EvidenceEvaluator(stack.tmp / "evidence"),
        )
    )
    token = secrets.token_urlsafe(16)
    await stack.store.put_api_token(
        new_token_record(
            token=token,
            kind=TokenKind.PERSONAL,
            tenant_id=stack.tenant,
            subject="compliance",
            now=datetime.now(UTC),
            ttl_seconds=600,
        )
    )
    auth = {"authorization": f"Bearer {token}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://stratgate.test") as http:
        url = f"/v1/tenants/{stack.tenant}/records/{record_id}/explain"
        got = await http.get(url, headers=auth)
        assert got.status_code == 200, got.text
        body = got.json()
        assert body["equal"] is True and body["metrics_hash_matches"] is True
        assert all(c["equal"] for c in body["criteria"]) and body["criteria"]
        unknown = await http.get(url.replace(record_id, "no-such-record"), headers=auth)
        assert unknown.status_code == 404 and unknown.json()["field"] == "record_id"
        odd = await http.get(url.replace(record_id, "x" * 201), headers=auth)
        assert odd.status_code == 422 and odd.json()["field"] == "record_id"
        other = await http.get(url.replace(stack.tenant, "t-other"), headers=auth)
        assert other.status_code == 403
        http.cookies.set("stratgate_token", token)
        strategy = await http.get("/ui/strategies/quant/edge")
        assert f'href="/ui/records/{record_id}/explain"' in strategy.text
        shown = await http.get(f"/ui/records/{record_id}/explain")
        assert shown.status_code == 200
        assert "Replays equal" in shown.text and "matches" in shown.text
        assert "coverage" in shown.text
        missing = await http.get("/ui/records/no-such-record/explain")
        assert missing.status_code == 404 and "no record no-such-record" in missing.text


def evidence_file(stack: Stack, kind: str) -> Path:
    (path,) = (stack.tmp / "evidence" / stack.tenant / "quant" / "edge" / kind).glob("*.parquet")
    return path


async def test_a_promotion_replays_equal_and_each_alteration_is_named(stack_factory: Stack) -> None:
    stack = stack_factory
    record_id = await promoted(stack)

    same = await explain(stack, record_id)
    assert same.evaluated and same.equal and same.metrics_hash_matches, same.problems
    assert same.criteria and all(c.equal and c.recomputed is not None for c in same.criteria)
    assert all(c.recorded_status == c.recomputed_status == "pass" for c in same.criteria)
    assert {f.kind for f in same.files} == {"signal_evaluations", "shadow_fills", "paper_orders"}
    assert all(f.status == FileStatus.VERIFIED for f in same.files)

    await through_the_api_and_the_ui(stack, record_id)

    # The user's path: a fresh process on the stored data.
    env = {
        "STRATGATE_DB": str(stack.tmp / "governance.db"),
        "STRATGATE_EVIDENCE_DIR": str(stack.tmp / "evidence"),
    }
    shown = sg(stack.tmp / "home", "records", "explain", "--tenant", stack.tenant, record_id, **env)
    assert shown.returncode == 0, shown.stderr
    assert "metrics_hash matches" in shown.stdout and "replays equal" in shown.stdout
    as_json = sg(
        stack.tmp / "home",
        "records",
        "explain",
        "--tenant",
        stack.tenant,
        record_id,
        "--json",
        **env,
    )
    assert json.loads(as_json.stdout)["equal"] is True
    unknown = sg(stack.tmp / "home", "records", "explain", "--tenant", stack.tenant, "nope", **env)
    assert unknown.returncode == 2 and "record_id: no record nope" in unknown.stderr

    # A cited file gone: named, and the report no longer hashes the same.
    orders = evidence_file(stack, "paper_orders")
    kept = stack.tmp / "orders.keep"
    shutil.move(orders, kept)
    gone = await explain(stack, record_id)
    missing = [f for f in gone.files if f.status == FileStatus.MISSING]
    assert [(f.kind, f.sha256) for f in missing] == [("paper_orders", orders.stem)]
    assert any(orders.stem[:16] in p and "missing" in p for p in gone.problems)
    assert not gone.equal and not gone.metrics_hash_matches
    cli = sg(stack.tmp / "home", "records", "explain", "--tenant", stack.tenant, record_id, **env)
    assert cli.returncode == 1 and "missing" in cli.stdout
    shutil.move(kept, orders)

    # A cited file edited in place (half its rows dropped): named altered, values differ.
    signals = evidence_file(stack, "signal_evaluations")
    original = signals.read_bytes()
    table = pq.read_table(signals)
    pq.write_table(table.slice(0, table.num_rows // 2), signals)
    edited = await explain(stack, record_id)
    (altered,) = [f for f in edited.files if f.status == FileStatus.ALTERED]
    assert altered.kind == "signal_evaluations" and "changed after the decision" in altered.reason
    assert not edited.equal and not edited.metrics_hash_matches
    assert any(not c.equal for c in edited.criteria if c.name == "coverage")
    signals.write_bytes(original)
    assert (await explain(stack, record_id)).equal

    # The stored copy of the report: gone, the hash still proves the replay; edited, it is named.
    (record,) = await stack.store.list_records(stack.tenant, "quant", "edge")
    metrics_hash = record.metrics_snapshot.metrics_hash
    assert metrics_hash is not None
    stored = await stack.store.get_evaluation_report(stack.tenant, metrics_hash)
    assert stored is not None
    path = paths.evaluation_report(stack.tenant, metrics_hash)
    conn = sqlite3.connect(stack.tmp / "governance.db")
    conn.execute("DELETE FROM documents WHERE path = ?", (path,))
    conn.commit()
    without = await explain(stack, record_id)
    assert without.equal and without.stored_report_intact is None
    assert any("not in the report store" in n for n in without.notes)
    await stack.store.put_evaluation_report(stack.tenant, stored)
    edited_report = stored.model_dump(mode="json")
    edited_report["criteria"][0]["threshold"] = 0.0
    conn.execute("UPDATE documents SET data = ? WHERE path = ?", (json.dumps(edited_report), path))
    conn.commit()
    conn.close()
    forged = await explain(stack, record_id)
    assert not forged.equal and forged.stored_report_intact is False
    assert "no longer hashes" in " ".join(forged.problems)
    conn = sqlite3.connect(stack.tmp / "governance.db")
    conn.execute("UPDATE documents SET data = ? WHERE path = ?", (stored.model_dump_json(), path))
    conn.commit()
    conn.close()
    assert (await explain(stack, record_id)).equal

    # The cited policy version rewritten under the same name: the thresholds that differ show.
    conn = sqlite3.connect(stack.tmp / "governance.db")
    conn.execute("DROP TRIGGER policy_versions_no_update")  # an attacker with file access
    (data,) = conn.execute("SELECT data FROM policy_versions WHERE tenant_id = ?", (stack.tenant,))
    policy = json.loads(data[0])
    policy["signal_quality_thresholds"]["observe_to_shadow"]["ic_mean_min"] = 0.99
    conn.execute(
        "UPDATE policy_versions SET data = ? WHERE tenant_id = ?",
        (json.dumps(policy), stack.tenant),
    )
    conn.commit()
    other = await explain(stack, record_id)
    assert not other.equal and not other.metrics_hash_matches
    changed = [c for c in other.criteria if not c.threshold_equal]
    assert [(c.name, c.recorded_threshold, c.recomputed_threshold) for c in changed] == [
        ("ic_mean", 0.02, 0.99)
    ]
    assert all(c.equal for c in other.criteria)  # same evidence, same values
    assert other.recorded_verdict == "ELIGIBLE" and other.recomputed_verdict == "INELIGIBLE"
    assert record.policy_version == other.policy_version
    # Put back, it replays equal again (as the check at the end of every workflow test wants).
    conn.execute("UPDATE policy_versions SET data = ? WHERE tenant_id = ?", (data[0], stack.tenant))
    conn.commit()
    conn.close()
    assert (await explain(stack, record_id)).equal


async def test_a_demotion_explains_itself_without_an_evaluation(stack_factory: Stack) -> None:
    stack = stack_factory
    await stack.seed(fast_policy(), {"edge": S.SHADOW})
    evaluator = seed_evidence(stack.tmp / "evidence", stack.tenant, {"edge": 0.6})
    async with stack.worker(evaluator):
        event = await stack.risk("edge", K.MARKETDATA_STALE)
        await stack.applied("edge", event)
    (record,) = await stack.store.list_records(stack.tenant, "quant", "edge")
    assert record.decision == Decision.DEMOTE
    found = await explain(stack, record.record_id)
    assert not found.evaluated and found.equal
    assert found.no_evaluation == f"no evaluation: decided by {record.reason_code}"
