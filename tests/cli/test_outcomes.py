"""Every command states its outcome, on the real embedded stack (`stratgate up --demo` on free
ports), as a person reads it in a pipe: plain lines, the domain's words, and under `--json`
the API's own error body."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx

from tests.cli.support import ok, sg
from tests.cli.test_tour import WHERE, free_ports, phase, stack_up, wait_until

EXTRA = ("--tenant", "demo", "--uid", "quant", "--strategy", "fresh")


def last_lines(result: object) -> list[str]:
    stdout = getattr(result, "stdout", "")
    return [line for line in stdout.splitlines() if line.strip()]


def test_each_command_says_what_it_did(tmp_path: Path) -> None:
    home, ports = tmp_path / "home", free_ports(3)
    with stack_up(home, tmp_path / "up.log", ports, "--demo"):
        api = f"http://127.0.0.1:{ports[2]}"
        tokens = json.loads((home / "demo-tokens.json").read_text())
        wait_until("approvals", lambda: phase(home) == "AWAITING_APPROVALS")

        # `promote status`: each criterion with its comparator, threshold and rounded value,
        # one plain line per criterion when piped (no box drawing, nothing wrapped).
        status = sg(home, "promote", "status", *WHERE)
        assert status.returncode == 0, status.stderr
        assert "phase AWAITING_APPROVALS" in status.stdout
        hit_rate = [line for line in status.stdout.splitlines() if line.startswith("hit_rate ")]
        assert len(hit_rate) == 1, status.stdout
        assert re.search(r">= \d+(\.\d{1,2})?%\s+\d+(\.\d{1,2})?%\s+[+-]\d", hit_rate[0]), hit_rate
        assert "missing: strategy_reviewer" in status.stdout
        assert not set("│┃━─┏") & set(status.stdout)
        # `evidence report` renders the same criteria the same way.
        report = sg(home, "evidence", "report", *WHERE, "--to", "shadow")  # stages: any case
        assert report.returncode == 0, report.stderr
        assert [ln for ln in report.stdout.splitlines() if ln.startswith("hit_rate ")] == hit_rate

        # `approve` says the role it signed in and the phase the request is now in; --wait
        # adds the final phase and the record.
        approve = ("--role", "STRATEGY_REVIEWER", "--as", "alice", "--comment", "edge is real")
        approved = sg(home, "approve", *WHERE, *approve, "--wait")
        assert approved.returncode == 0, approved.stderr
        said = last_lines(approved)
        assert said[-2] == "approved as strategy_reviewer; request now FINAL_CHECK", said
        records = ok(sg(home, "records", "list", *WHERE, "--json"))
        assert said[-1].startswith(f"final phase COMMITTED, record {records[-1]['record_id']}")
        # Approving an ended request says it ended, and how.
        again = sg(home, "approve", *WHERE, *approve)
        assert again.returncode == 2 and "ended COMMITTED" in again.stderr, again.stderr
        # `promote status` of the ended request says how it ended, and lists nothing missing.
        ended = sg(home, "promote", "status", *WHERE)
        assert f"ended COMMITTED as record {records[-1]['record_id']}" in ended.stdout
        assert "missing:" not in ended.stdout

        # `risk-event` waits for the demotion and says what it did.
        event = sg(home, "risk-event", *WHERE, "--kind", "MARKETDATA_STALE")
        assert event.returncode == 0, event.stderr
        demotion = ok(sg(home, "records", "list", *WHERE, "--json"))[-1]
        assert last_lines(event)[-1].startswith(
            f"demoted SHADOW -> OBSERVE, frozen, record {demotion['record_id']}"
        ), event.stdout
        # Not waiting, it says the outcome is pending.
        pending = sg(home, "risk-event", *WHERE, "--kind", "marketdata_stale", "--no-wait")
        assert last_lines(pending)[-1].startswith("pending: not applied yet"), pending.stdout
        # Through the API (a risk approver's token) it waits the same way, on the API's answer.
        bob = {"STRATGATE_TOKEN": tokens["bob"]}
        via_api = sg(home, "risk-event", *WHERE, "--kind", "drawdown_breaker", "--api", api, **bob)
        assert via_api.returncode == 0, via_api.stderr
        assert not last_lines(via_api)[-1].startswith("pending"), via_api.stdout
        as_json_event = ok(
            sg(
                home,
                "risk-event",
                *WHERE,
                "--kind",
                "drawdown_breaker",
                "--api",
                api,
                "--json",
                **bob,
            )
        )
        assert as_json_event["outcome"]["applied"] is True, as_json_event

        # `promote request` names the first phase; `promote cancel` says cancelled.
        registered = sg(home, "strategy", "register", *EXTRA, "--stage", "shadow")
        assert registered.returncode == 0, registered.stderr
        made = sg(home, "promote", "request", *EXTRA, "--to", "paper", "--as", "quant")
        assert made.returncode == 0, made.stderr
        first = last_lines(made)[0]
        assert re.fullmatch(
            r"promotion request \S+ started: SHADOW -> PAPER, now WAITING_FOR_WINDOW( \(.*\))?",
            first,
        ), first
        cancelled = sg(home, "promote", "cancel", *EXTRA, "--as", "quant", "--reason", "test")
        assert cancelled.returncode == 0, cancelled.stderr
        assert re.fullmatch(
            r"cancelled request \S+ \(SHADOW -> PAPER\); request now CANCELLED",
            last_lines(cancelled)[-1],
        ), cancelled.stdout
        # The old spelling of the identity flag still works, with a warning.
        old = sg(home, "promote", "request", *EXTRA, "--to", "PAPER", "--by", "quant")
        assert old.returncode == 0 and "--by is deprecated; use --as" in old.stderr, old.stderr
        assert "started: SHADOW -> PAPER" in old.stdout

        # Errors in the domain's words, never the engine's.
        typo = sg(
            home, "promote", "status", "--tenant", "demo", "--uid", "quant", "--strategy", "mom"
        )
        assert typo.returncode == 2 and "unknown strategy demo/quant/mom" in typo.stderr
        assert "Temporal" not in typo.stderr
        tenant = sg(
            home,
            "promote",
            "cancel",
            "--tenant",
            "dmo",
            "--uid",
            "quant",
            "--strategy",
            "momo-edge",
            "--as",
            "quant",
        )
        assert tenant.returncode == 2 and "unknown tenant dmo" in tenant.stderr, tenant.stderr
        over = sg(home, "promote", "cancel", *WHERE, "--as", "quant")
        assert over.returncode == 2 and "ended" in over.stderr and "Temporal" not in over.stderr
        # Under --json, the error is JSON on stdout with the API's code and field.
        as_json = sg(
            home,
            "promote",
            "status",
            "--tenant",
            "demo",
            "--uid",
            "quant",
            "--strategy",
            "mom",
            "--json",
        )
        assert as_json.returncode == 2, as_json.stderr
        cli_error = json.loads(as_json.stdout)
        from_api = httpx.get(
            f"{api}/v1/tenants/demo/strategies/quant/mom/promotion",
            headers={"Authorization": f"Bearer {tokens['alice']}"},
        ).json()
        assert (cli_error["code"], cli_error["field"]) == (from_api["code"], from_api["field"])
        assert cli_error["code"] == "unknown_strategy"
        # The API's access log is a file in the data directory, not the `up` terminal.
        path = "/v1/tenants/demo/strategies/quant/mom/promotion"
        assert path in (home / "api-access.log").read_text()
        assert path not in (tmp_path / "up.log").read_text()
        usage = sg(home, "evidence", "report", *WHERE, "--to", "papr", "--json")
        assert usage.returncode == 2 and json.loads(usage.stdout)["field"] == "to", usage.stdout

        # Tables piped are one plain, grep-able line per row.
        listed = sg(home, "promote", "list", "--tenant", "demo")
        rows = [ln for ln in listed.stdout.splitlines() if "quant/fresh" in ln]
        assert len(rows) == 2 and all("SHADOW -> PAPER" in r for r in rows), listed.stdout
        assert not set("│┃━─┏") & set(listed.stdout)
