"""The CLI as a user runs it: a subprocess with its own STRATGATE_HOME."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

STRATGATE = Path(sys.prefix, "bin", "stratgate")


def sg(
    home: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "STRATGATE_HOME": str(home), **(env or {})}
    full.pop("TEMPORAL_ADDRESS", None)
    return subprocess.run(
        [str(STRATGATE), *args], capture_output=True, text=True, env=full, timeout=120
    )


def test_policy_round_trip_and_refusals(tmp_path: Path) -> None:
    shown = sg(tmp_path, "policy", "show", "--defaults", "--json")
    assert shown.returncode == 0, shown.stderr
    policy = json.loads(shown.stdout)
    assert policy["signal_quality_thresholds"]["observe_to_shadow"]["hit_rate_min"] == 0.52
    assert policy["stability_windows"]["paper_to_live"]["min_orders"] == 100
    policy["policy_version"] = "demo.2026-11-25"
    (tmp_path / "p.json").write_text(json.dumps(policy))
    assert (
        sg(tmp_path, "policy", "set", "--tenant", "demo", str(tmp_path / "p.json")).returncode == 0
    )
    again = sg(tmp_path, "policy", "show", "--tenant", "demo", "--json")
    assert json.loads(again.stdout)["policy_version"] == "demo.2026-11-25"
    (tmp_path / "round.json").write_text(again.stdout)  # what show prints, set accepts
    assert (
        sg(tmp_path, "policy", "set", "--tenant", "demo", str(tmp_path / "round.json")).returncode
        == 0
    )
    (tmp_path / "bad.yaml").write_text(
        "policy_version: x\nrisk_thresholds:\n  concentration_limit: 3\n"
    )
    bad = sg(tmp_path, "policy", "validate", str(tmp_path / "bad.yaml"))
    assert bad.returncode == 2 and "risk_thresholds.concentration_limit" in bad.stderr


def test_gate_without_policy_is_non_executing(tmp_path: Path) -> None:
    out = sg(
        tmp_path,
        "gate",
        "check",
        "--tenant",
        "nobody",
        "--uid",
        "u",
        "--strategy",
        "s",
        "--marketdata-age-ms",
        "5",
        "--agent-state",
        "READY",
        "--json",
        env={"TRADING_MODE": "paper", "EXECUTION_HALTED": "0"},
    )
    decision = json.loads(out.stdout)
    assert decision["mode"] == "NO_EXECUTION" and not decision["executing"]
    assert "missing_policy" in [r["code"] for r in decision["reasons"]]
    halted = sg(
        tmp_path,
        "gate",
        "check",
        "--tenant",
        "nobody",
        "--uid",
        "u",
        "--strategy",
        "s",
        "--json",
        env={"EXECUTION_HALTED": "1"},
    )
    assert "kill_switch" in [r["code"] for r in json.loads(halted.stdout)["reasons"]]


def test_records_verify_names_a_tampered_record(tmp_path: Path) -> None:
    import asyncio

    from governance.records import StrategyDoc
    from governance.stages import Decision
    from governance.stages import LifecycleStage as S
    from store.sqlite import SqliteStore
    from tests.store_contract.test_contract import change

    async def seed() -> str:
        store = SqliteStore(tmp_path / "stratgate.db")
        doc = StrategyDoc(tenant_id="demo", uid="quant", strategy_id="s1")
        await store.register_strategy(doc)
        first = await store.commit_stage_change(change(doc, S.SHADOW))
        after = await store.get_strategy("demo", "quant", "s1")
        assert after is not None
        await store.commit_stage_change(change(after, S.OBSERVE, Decision.DEMOTE))
        await store.close()
        return first.record_id

    record_id = asyncio.run(seed())
    assert sg(tmp_path, "records", "verify", "--tenant", "demo").returncode == 0
    conn = sqlite3.connect(tmp_path / "stratgate.db")
    conn.execute("DROP TRIGGER promotion_records_no_update")  # an attacker with file access
    conn.execute(
        "UPDATE promotion_records SET data = replace(data, '\"contract\"', '\"innocent\"') "
        "WHERE record_id = ?",
        (record_id,),
    )
    conn.commit()
    conn.close()
    verify = sg(tmp_path, "records", "verify", "--tenant", "demo")
    assert verify.returncode == 1 and record_id in verify.stdout, verify.stdout


def test_strategy_register_show_and_users(tmp_path: Path) -> None:
    ok = sg(
        tmp_path,
        "strategy",
        "register",
        "--tenant",
        "demo",
        "--uid",
        "quant",
        "--strategy",
        "m",
        "--stage",
        "PAPER",
        "--since",
        "2026-10-01T00:00:00",
    )
    assert ok.returncode == 0, ok.stderr
    shown = json.loads(
        sg(
            tmp_path,
            "strategy",
            "show",
            "--tenant",
            "demo",
            "--uid",
            "quant",
            "--strategy",
            "m",
            "--json",
        ).stdout
    )
    assert shown["lifecycle_stage"] == "PAPER" and shown["execution_mode"] == "PAPER"
    assert shown["last_stage_change_at"].startswith("2026-10-01")
    twice = sg(
        tmp_path, "strategy", "register", "--tenant", "demo", "--uid", "quant", "--strategy", "m"
    )
    assert twice.returncode == 2 and "already registered" in twice.stderr
    assert (
        sg(
            tmp_path, "users", "add", "--tenant", "demo", "--user", "bob", "--role", "risk_approver"
        ).returncode
        == 0
    )
    bad_role = sg(tmp_path, "users", "add", "--tenant", "demo", "--user", "bob", "--role", "boss")
    assert bad_role.returncode != 0
    no_stack = sg(
        tmp_path, "promote", "status", "--tenant", "demo", "--uid", "quant", "--strategy", "m"
    )
    assert no_stack.returncode == 2 and "stratgate up" in no_stack.stderr
