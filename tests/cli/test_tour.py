"""The README's five-minute tour, run as a newcomer runs it: `stratgate up --demo` in one process,
then the CLI in another with the same STRATGATE_HOME; Ctrl-C stops it and a second `up` resumes.

The stack here is the real one `make up` starts (its own Temporal dev server on free ports), not
the test session's shared server.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from cli.embedded import stack_file
from tests.cli.support import STRATGATE, UNSET, ok, sg

WHERE = ("--tenant", "demo", "--uid", "quant", "--strategy", "momo-edge")


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def port_args(ports: list[int]) -> list[str]:
    return [
        "--temporal-port",
        str(ports[0]),
        "--ui-port",
        str(ports[1]),
        "--api-port",
        str(ports[2]),
    ]


def wait_until(what: str, probe: Callable[[], Any], timeout: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)


@contextmanager
def stack_up(
    home: Path, log: Path, ports: list[int], *extra: str
) -> Iterator[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    env.update(STRATGATE_HOME=str(home), PYTHONUNBUFFERED="1")
    with log.open("w") as out:
        up = subprocess.Popen(
            [str(STRATGATE), "up", *port_args(ports), *extra],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        wait_until("the stack", lambda: "Ctrl-C stops everything" in log.read_text())
        yield up
    finally:
        if up.poll() is None:
            up.send_signal(signal.SIGINT)  # what Ctrl-C does
            try:
                up.wait(timeout=60)
            except subprocess.TimeoutExpired:
                up.kill()
                raise


def phase(home: Path) -> str:
    result = sg(home, "promote", "status", *WHERE, "--json")
    return str(json.loads(result.stdout)["phase"]) if result.returncode == 0 else ""


def test_the_readme_tour_on_the_embedded_stack(tmp_path: Path) -> None:
    home, ports = tmp_path / "home", free_ports(3)
    first_log = tmp_path / "up-1.log"
    with stack_up(home, first_log, ports, "--demo") as up:
        printed = first_log.read_text()
        for address in (f"127.0.0.1:{ports[0]}", f":{ports[1]}", f":{ports[2]}"):
            assert address in printed, printed
        assert "it awaits alice's approval" in printed, printed
        # The API/UI it printed answers, and knows the demo people by their tokens.
        api = f"http://127.0.0.1:{ports[2]}"
        tokens = json.loads((home / "demo-tokens.json").read_text())
        assert httpx.get(f"{api}/healthz").status_code == 200
        assert httpx.get(f"{api}/readyz").status_code == 200
        alice = {"Authorization": f"Bearer {tokens['alice']}"}
        listed = httpx.get(f"{api}/v1/tenants/demo/strategies", headers=alice)
        assert listed.status_code == 200 and "momo-edge" in listed.text, listed.text
        assert httpx.get(f"{api}/v1/tenants/demo/strategies").status_code == 401
        # 1. the request waits for approval, with its report
        wait_until("approvals", lambda: phase(home) == "AWAITING_APPROVALS")
        status = ok(sg(home, "promote", "status", *WHERE, "--json"))
        assert status["report"]["verdict"] == "ELIGIBLE"
        assert status["missing_roles"] == ["strategy_reviewer"]
        # 2. approve as the strategy reviewer
        approve = ["--role", "strategy_reviewer", "--as", "alice", "--comment", "edge is real"]
        approved = sg(home, "approve", *WHERE, *approve)
        assert approved.returncode == 0, approved.stderr
        wait_until("the commit", lambda: phase(home) == "COMMITTED")
        assert ok(sg(home, "strategy", "show", *WHERE, "--json"))["lifecycle_stage"] == "SHADOW"
        # 3. a risk system reports stale marketdata: OBSERVE and frozen at once
        event = sg(home, "risk-event", *WHERE, "--kind", "marketdata_stale")
        assert event.returncode == 0, event.stderr

        def demoted() -> bool:
            doc = ok(sg(home, "strategy", "show", *WHERE, "--json"))
            return bool(doc["lifecycle_stage"] == "OBSERVE" and doc["freeze"])

        wait_until("the demotion", demoted)
        # 4. who did what, when and why
        table = sg(home, "history", *WHERE)
        assert table.returncode == 0 and "alice" in table.stdout, table.stderr
        timeline = ok(sg(home, "history", *WHERE, "--json"))
        said = [" ".join(str(e[k]) for k in ("source", "what", "who", "why")) for e in timeline]
        for seen in ("approve", "alice", "edge is real", "risk_event", "marketdata_stale"):
            assert any(seen in line for line in said), said
        # 5. the chain verifies
        verified = sg(home, "records", "verify", "--tenant", "demo")
        assert verified.returncode == 0, verified.stdout + verified.stderr
        # Changing the policy (README "Changing a policy"): a LIVE weakening, two approvers.
        shown = sg(home, "policy", "show", "--tenant", "demo", "--json")
        policy = json.loads(shown.stdout)
        policy["policy_version"] = "demo.v2"
        policy["live_controls"]["enablement_seconds"] = 172_800
        (tmp_path / "demo.v2.json").write_text(json.dumps(policy))
        proposed = sg(
            home,
            "policy",
            "propose",
            "--tenant",
            "demo",
            str(tmp_path / "demo.v2.json"),
            "--reason",
            "two-day LIVE enablement",
            "--as",
            "quant",
            "--json",
        )
        pid = ok(proposed)["proposal"]["proposal_id"]
        assert ok(proposed)["proposal"]["required_approvals"] == 2
        shown_proposal = sg(home, "policy", "show-proposal", pid, "--tenant", "demo")
        assert "weakens LIVE" in shown_proposal.stdout, shown_proposal.stdout
        for person, status in (("frank", "pending"), ("grace", "published")):
            decided = sg(
                home,
                "policy",
                "approve-proposal",
                pid,
                "--tenant",
                "demo",
                "--as",
                person,
                "--json",
            )
            assert ok(decided)["proposal"]["status"] == status
        chain = sg(home, "policy", "history", "--tenant", "demo")
        assert chain.returncode == 0 and "demo.v2" in chain.stdout and "ok" in chain.stdout
        # A second stack on the same ports is refused with a clear message.
        second = subprocess.run(
            [str(STRATGATE), "up", *port_args(ports)],
            capture_output=True,
            text=True,
            env={**os.environ, "STRATGATE_HOME": str(tmp_path / "other")},
            timeout=60,
        )
        assert second.returncode != 0 and "port" in second.stderr.lower(), second.stderr
        # A second stack on the same data directory is refused naming the running one.
        same_home = sg(home, "up", *port_args(free_ports(3)))
        assert same_home.returncode == 2, same_home.stderr
        for seen in (f"pid {up.pid}", f"127.0.0.1:{ports[0]}", f"127.0.0.1:{ports[2]}"):
            assert seen in same_home.stderr, same_home.stderr
        assert stack_file(home).exists()  # the refused one did not delete the running one's
    assert up.returncode == 0, first_log.read_text()
    assert "stopping" in first_log.read_text()
    # Stopped: the CLI says so rather than hanging.
    assert "stratgate up" in sg(home, "promote", "status", *WHERE).stderr
    # Up again: the same workflows and records, resumed from the data directory.
    with stack_up(home, tmp_path / "up-2.log", free_ports(3)):
        assert phase(home) == "COMMITTED"
        listed = ok(sg(home, "records", "list", *WHERE, "--json"))
        assert [r["decision"] for r in listed] == ["promote", "demote"]
        assert sg(home, "records", "verify", "--tenant", "demo").returncode == 0
