"""`stratgate gate`, `strategy`, `users` and the configuration from the environment."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from governance.records import AuditEvent, PromotionRecord
from store.sqlite import SqliteStore
from tests.cli.support import in_store, ok, refused, sg

GATE = ("gate", "check", "--tenant", "demo", "--uid", "quant", "--strategy", "m", "--json")


def test_gate_check_fails_closed_and_reads_the_runtime_environment(tmp_path: Path) -> None:
    ready = ("--marketdata-age-ms", "5", "--agent-state", "READY")
    paper = {"TRADING_MODE": "paper", "BROKER_HOST": "https://paper-api.alpaca.markets"}
    nothing = ok(sg(tmp_path, *GATE, *ready, **paper, EXECUTION_HALTED="0"))
    assert nothing["mode"] == "NO_EXECUTION" and not nothing["executing"]
    assert {"missing_policy", "unknown_strategy"} <= {r["code"] for r in nothing["reasons"]}
    text = sg(tmp_path, *GATE[:-1], **paper)  # people get the same answer as text
    assert (
        text.stdout.startswith("NO_EXECUTION (non-executing)") and "missing_policy" in text.stdout
    )
    # A registered PAPER strategy with a policy, every rail green: paper orders.
    sg(
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
    )
    (tmp_path / "p.json").write_text(json.dumps({"policy_version": "v1"}))
    sg(tmp_path, "policy", "set", "--tenant", "demo", str(tmp_path / "p.json"))
    green = ok(sg(tmp_path, *GATE, *ready, **paper))
    assert green["mode"] == "PAPER" and green["executing"] and green["stage"] == "PAPER"
    # Each runtime input, from the environment or an option, can only lower it.
    halted = ok(sg(tmp_path, *GATE, *ready, **paper, EXECUTION_HALTED="1"))
    assert halted["mode"] == "NO_EXECUTION" and "kill_switch" in str(halted["reasons"])
    (tmp_path / "HALT").write_text("")
    by_file = ok(sg(tmp_path, *GATE, *ready, **paper, EXECUTION_HALT_FILE=str(tmp_path / "HALT")))
    assert by_file["mode"] == "NO_EXECUTION"
    # A halt file that cannot be looked at halts too, and the reason names the error.
    unreadable = ok(sg(tmp_path, *GATE, *ready, **paper, EXECUTION_HALT_FILE="x" * 5000))
    assert unreadable["mode"] == "NO_EXECUTION"
    assert "File name too long" in str(unreadable["reasons"]), unreadable["reasons"]
    option = ok(sg(tmp_path, *GATE, *ready, "--trading-mode", "observe", **paper))
    assert option["mode"] == "SIMULATE" and "trading_mode_not_paper" in str(option["reasons"])
    host = ok(sg(tmp_path, *GATE, *ready, "--broker-host", "api.alpaca.markets", **paper))
    assert host["mode"] == "SIMULATE"
    stale = ok(
        sg(tmp_path, *GATE, "--marketdata-age-ms", "60000", "--agent-state", "READY", **paper)
    )
    assert stale["mode"] == "NO_EXECUTION" and "marketdata_stale" in str(stale["reasons"])
    unknown = ok(sg(tmp_path, *GATE, **paper))  # no marketdata age, no agent state
    assert unknown["mode"] == "NO_EXECUTION"
    in_store(tmp_path, lambda s: s.put_system_status({"is_shadow_mode": True}))
    shadow = ok(sg(tmp_path, *GATE, *ready, **paper))
    assert shadow["mode"] == "SIMULATE" and "global_shadow_mode" in str(shadow["reasons"])


def test_gate_check_answers_even_when_a_document_no_longer_parses(tmp_path: Path) -> None:
    (tmp_path / "p.json").write_text(json.dumps({"policy_version": "v1"}))
    sg(tmp_path, "policy", "set", "--tenant", "demo", str(tmp_path / "p.json"))
    conn = sqlite3.connect(tmp_path / "stratgate.db")
    conn.execute(
        "UPDATE documents SET data = json_set(data, '$.risk_thresholds', 'garbage') "
        "WHERE path = 'tenants/demo/governance/promotion_policy'"
    )
    conn.commit()
    conn.close()
    answer = ok(sg(tmp_path, *GATE, "--marketdata-age-ms", "5", "--agent-state", "READY"))
    assert answer["mode"] == "NO_EXECUTION"  # unreadable is unknown: fail closed, and say why
    assert {"policy_unreadable", "missing_policy"} <= {r["code"] for r in answer["reasons"]}


def test_strategy_register_show_list(tmp_path: Path) -> None:
    base = ("strategy", "register", "--tenant", "demo", "--uid", "quant", "--strategy", "m")
    registered = ok(
        sg(tmp_path, *base, "--stage", "PAPER", "--since", "2026-10-01T09:30:00-04:00", "--json")
    )
    assert registered["lifecycle_stage"] == "PAPER" and registered["execution_mode"] == "PAPER"
    assert registered["last_stage_change_at"] == "2026-10-01T13:30:00Z"  # kept in UTC
    shown = ok(
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
        )
    )
    assert shown == registered
    ok(
        sg(
            tmp_path,
            "strategy",
            "register",
            "--tenant",
            "demo",
            "--uid",
            "ada",
            "--strategy",
            "n",
            "--json",
        )
    )
    listed = ok(sg(tmp_path, "strategy", "list", "--tenant", "demo", "--json"))
    assert {(d["uid"], d["lifecycle_stage"]) for d in listed} == {
        ("quant", "PAPER"),
        ("ada", "OBSERVE"),
    }
    assert [
        d["uid"]
        for d in ok(sg(tmp_path, "strategy", "list", "--tenant", "demo", "--uid", "ada", "--json"))
    ] == ["ada"]

    async def written(store: SqliteStore) -> tuple[list[PromotionRecord], list[AuditEvent]]:
        return await store.list_records("demo"), await store.list_audit_events("demo", "quant")

    records, events = in_store(tmp_path, written)
    assert records == []  # registration is no stage change: no record
    assert [e.event_type for e in events] == ["strategy.registered"]
    assert events[0].details == {"lifecycle_stage": "PAPER", "since": "2026-10-01T13:30:00+00:00"}
    refused(sg(tmp_path, *base), "strategy_id", "already registered")
    refused(
        sg(
            tmp_path,
            "strategy",
            "register",
            "--tenant",
            "demo",
            "--uid",
            "bad uid",
            "--strategy",
            "m",
        ),
        "uid",
    )
    refused(sg(tmp_path, *base, "--since", "2999-01-01"), "--since", "future")
    refused(sg(tmp_path, *base, "--since", "last tuesday"), "--since", "ISO-8601")
    assert sg(tmp_path, *base, "--stage", "MOON").returncode == 2
    refused(
        sg(tmp_path, "strategy", "show", "--tenant", "demo", "--uid", "quant", "--strategy", "zz"),
        "not registered",
    )


def test_users_directory(tmp_path: Path) -> None:
    add = ("users", "add", "--tenant", "demo", "--user")
    ok(sg(tmp_path, *add, "bob", "--role", "risk_approver", "--role", "ops_approver", "--json"))
    sg(tmp_path, *add, "carol", "--role", "final_authorizer")
    assert ok(sg(tmp_path, "users", "list", "--tenant", "demo", "--json")) == {
        "bob": ["ops_approver", "risk_approver"],
        "carol": ["final_authorizer"],
    }
    bad_role = sg(tmp_path, *add, "bob", "--role", "boss")
    assert bad_role.returncode == 2 and "--role" in bad_role.stderr
    # Setting the roles a person holds changes nothing; a user id that is not one is refused.
    again = ok(sg(tmp_path, *add, "carol", "--role", "final_authorizer", "--json"))
    assert again["changed"] is False
    refused(sg(tmp_path, *add, "carol/../bob", "--role", "risk_approver"), "user", "pattern")


def test_tokens_issue_and_revoke(tmp_path: Path) -> None:
    tokens = ("tokens", "issue", "--tenant", "demo", "--user")
    directory = ("users", "add", "--tenant", "demo", "--user")
    ok(sg(tmp_path, *directory, "bob", "--role", "ops_approver", "--json"))
    issued = ok(sg(tmp_path, *tokens, "bob", "--ttl-days", "2", "--json"))
    assert issued["token"].startswith("sg_") and issued["kind"] == "personal", issued
    # A personal token only for someone in the directory; a service token for a system.
    refused(sg(tmp_path, *tokens, "zed"), "user", "approver directory")
    assert ok(sg(tmp_path, *tokens, "risk-engine", "--service", "--json"))["kind"] == "service"
    revoke = ("tokens", "revoke", "--tenant", "demo", "--token")
    assert ok(sg(tmp_path, *revoke, issued["token"], "--json"))["changed"] is True
    again = sg(tmp_path, *revoke, issued["token"])
    assert again.returncode == 0 and "already revoked" in again.stdout, again.stderr
    refused(sg(tmp_path, *revoke, "sg_not-issued"), "token", "unknown token")


def test_configuration_from_the_environment(tmp_path: Path) -> None:
    elsewhere = tmp_path / "db" / "other.db"
    sg(
        tmp_path,
        "users",
        "add",
        "--tenant",
        "demo",
        "--user",
        "bob",
        "--role",
        "risk_approver",
        STRATGATE_DB=str(elsewhere),
    )
    assert elsewhere.exists() and not (tmp_path / "stratgate.db").exists()
    assert ok(
        sg(tmp_path, "users", "list", "--tenant", "demo", "--json", STRATGATE_DB=str(elsewhere))
    ) == {"bob": ["risk_approver"]}
    refused(
        sg(tmp_path, "users", "list", "--tenant", "demo", STRATGATE_STORE="mongo"),
        "STRATGATE_STORE",
    )
    no_stack = sg(
        tmp_path, "promote", "status", "--tenant", "demo", "--uid", "quant", "--strategy", "m"
    )
    refused(no_stack, "stratgate up")


def test_store_commands_start_without_temporal_or_the_api() -> None:
    # `gate check` sits on the trading runtime's hot path: the heavy stacks load only when named.
    heavy = "{'temporalio', 'fastapi', 'pandas'}"
    probe = f"import sys, cli.main; print(sorted({heavy} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
