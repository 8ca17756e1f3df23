"""A tenant's history moves from SQLite to Firestore with every hash intact."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from governance.chain import verify_chain
from governance.policy import default_policy
from governance.records import AuditEvent, MetricsSnapshot, StrategyDoc
from governance.roles import Role
from governance.stages import Decision
from governance.stages import LifecycleStage as S
from store.firestore import FirestoreStore
from store.sqlite import SqliteStore
from tests.store_contract.helpers import sample_report, unchained_all
from tests.store_contract.test_contract import NOW, change

STRATGATE = Path(sys.prefix, "bin", "stratgate")
REPORT = sample_report()


async def seed(db: Path, tenant: str) -> list[str]:
    store = SqliteStore(db)
    await store.put_policy(tenant, default_policy("v1"))
    await store.put_policy(tenant, default_policy("v2"))
    await store.put_approver(tenant, "bob", [Role.RISK_APPROVER])
    await store.append_audit_event(
        AuditEvent(event_id="reg", event_type="strategy.registered", ts=NOW, tenant_id=tenant)
    )
    hashes = []
    for sid in ("a", "b"):
        doc = StrategyDoc(tenant_id=tenant, uid="quant", strategy_id=sid)
        await store.register_strategy(doc)
        steps: list[tuple[S, Decision, dict[str, Any]]] = [
            (S.SHADOW, Decision.PROMOTE, {}),
            (S.SHADOW, Decision.FREEZE, {"freeze_reason": "x"}),
            (S.OBSERVE, Decision.DEMOTE, {}),
        ]
        if sid == "a":  # the promotion cites a stored eligibility report
            await store.put_evaluation_report(tenant, REPORT)
            snapshot = MetricsSnapshot(metrics={"hit_rate": 0.56}, metrics_hash=REPORT.metrics_hash)
            steps[0] = (S.SHADOW, Decision.PROMOTE, {"metrics_snapshot": snapshot})
        for to, decision, extra in steps:
            current = await store.get_strategy(tenant, "quant", sid)
            assert current is not None
            record = await store.commit_stage_change(change(current, to, decision, **extra))
            hashes.append(record.record_hash)
    await store.register_strategy(StrategyDoc(tenant_id=tenant, uid="quant", strategy_id="quiet"))
    await store.close()
    return hashes


async def test_migrate_sqlite_to_firestore_verifies_every_hash(
    tmp_path: Path, tenant: str, firestore_emulator_host: str
) -> None:
    from store.migrate import migrate

    hashes = await seed(tmp_path / "g.db", tenant)
    source = SqliteStore(tmp_path / "g.db")
    target = FirestoreStore.for_emulator(firestore_emulator_host, f"migrate-{uuid.uuid4().hex[:6]}")
    report = await migrate(source, target, tenant)
    assert report.verified and report.records == 6 and report.strategies == 3
    assert report.policy_versions == 2 and report.approvers == 1
    assert report.evaluation_reports == 1
    assert await target.get_evaluation_report(tenant, REPORT.metrics_hash) == REPORT
    copied = await target.list_records(tenant)
    assert sorted(r.record_hash for r in copied) == sorted(hashes)
    assert verify_chain(await target.list_records(tenant, "quant", "a")).ok
    # The target links the events into its own audit chain (positions may differ): compare
    # the events themselves.
    by_id = lambda events: sorted(unchained_all(events), key=lambda e: e.event_id)  # noqa: E731
    assert by_id(await target.list_audit_events(tenant)) == by_id(
        await source.list_audit_events(tenant)
    )
    assert await target.get_strategy(tenant, "quant", "a") == await source.get_strategy(
        tenant, "quant", "a"
    )
    await source.close()
    await target.close()


async def test_the_cli_migrates_then_verifies_on_firestore(
    tmp_path: Path, tenant: str, firestore_emulator_host: str
) -> None:
    await seed(tmp_path / "stratgate.db", tenant)
    env = {
        **os.environ,
        "STRATGATE_HOME": str(tmp_path),
        "FIRESTORE_EMULATOR_HOST": firestore_emulator_host,
        "FIRESTORE_PROJECT": f"cli-{uuid.uuid4().hex[:6]}",
    }
    moved = subprocess.run(
        [
            str(STRATGATE),
            "store",
            "migrate",
            "--tenant",
            tenant,
            "--from",
            "sqlite",
            "--to",
            "firestore",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert moved.returncode == 0, moved.stderr
    assert "6 records of 3 strategies" in moved.stdout
    verify = subprocess.run(
        [str(STRATGATE), "records", "verify", "--tenant", tenant],
        capture_output=True,
        text=True,
        env={**env, "STRATGATE_STORE": "firestore"},
        timeout=120,
    )
    assert verify.returncode == 0 and "quant/a: 3 records, ok" in verify.stdout, (
        verify.stdout + verify.stderr
    )
