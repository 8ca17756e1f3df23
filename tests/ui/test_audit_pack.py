"""`stratgate audit pack` over a tenant populated through the real stack (Temporal dev server,
worker, SQLite): the sections and figures, the period's bounds, and the HTML in Chromium."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from playwright.async_api import async_playwright
from temporalio.client import Client

from app.audit_pack import audit_pack
from app.policy import decide_proposal, propose_policy
from governance.errors import GovernanceError
from governance.identity import Principal, TokenKind
from governance.policy import PromotionPolicy
from governance.policy_change import ProposalAction
from governance.promotion import Phase
from governance.records import AuditEvent, Severity
from governance.risk_events import RiskEventKind as K
from governance.roles import Role
from governance.stages import LifecycleStage as S
from store.sqlite import SqliteStore
from tests.cli.support import refused, sg
from tests.ui.conftest import ARGS, CHROMIUM, SHOTS
from tests.workflows.evidence_fixtures import seed_evidence
from tests.workflows.harness import Stack, fast_policy

TODAY = datetime.now(UTC).date()
START, END = TODAY - timedelta(days=1), TODAY + timedelta(days=1)


def at(day: date, clock: time = time(12)) -> datetime:
    return datetime.combine(day, clock, UTC)


async def halt_events(store: SqliteStore, tenant: str) -> None:
    """The fleet's halt story (contract C2): a drill inside the period, at its first instant,
    a real halt at its last, and two just outside it."""

    async def halt(halt_id: str, ts: datetime, drill: bool, gate_ms: float, resumed: bool) -> None:
        events = [
            (
                "tenant.halted",
                ts,
                {
                    "halt_id": halt_id,
                    "reason": "drill" if drill else "loss",
                    "halted_by": "olga",
                    "scope": "tenant",
                    "drill": drill,
                },
            ),
            (
                "tenant.halt_completed",
                ts + timedelta(seconds=1),
                {
                    "halt_id": halt_id,
                    "strategies": 2,
                    "records": 2,
                    "preempted": 1,
                    "gate_closed_ms": gate_ms,
                    "last_record_ms": gate_ms * 3,
                },
            ),
        ]
        if resumed:
            events.append(
                (
                    "tenant.resumed",
                    ts + timedelta(minutes=30),
                    {"halt_id": halt_id, "resume_id": f"r-{halt_id}", "by": "rita"},
                )
            )
        for kind, when, details in events:
            await store.append_audit_event(
                AuditEvent(
                    event_id=f"{kind}-{halt_id}",
                    event_type=kind,
                    severity=Severity.CRITICAL if kind == "tenant.halted" else Severity.INFO,
                    ts=when,
                    tenant_id=tenant,
                    details=details,
                )
            )

    await halt("drill-1", at(START, time(0)), drill=True, gate_ms=12.0, resumed=True)
    await halt("halt-1", at(END, time(23, 59, 58)), drill=False, gate_ms=40.0, resumed=False)
    await halt("before", at(START - timedelta(days=1), time(23, 59, 59)), True, 5.0, True)
    await halt("after", at(END + timedelta(days=1), time(0)), True, 5.0, True)


async def populate(stack: Stack) -> None:
    await stack.seed(fast_policy(), {"edge": S.SHADOW, "momo": S.PAPER})
    evaluator = seed_evidence(stack.tmp / "evidence", stack.tenant, {"edge": 0.6})
    async with stack.worker(evaluator):
        await stack.request("edge", S.PAPER)
        await stack.wait_phase("edge", Phase.AWAITING_APPROVALS)
        await stack.approve("edge", "bob", Role.RISK_APPROVER)
        await stack.approve("edge", "carol", Role.OPS_APPROVER)
        assert (await stack.outcome("edge")).phase == Phase.COMMITTED
        await stack.risk("momo", K.DAILY_LOSS_LIMIT_BREACHED)
        await stack.wait_records("momo", 1)
    # A governed policy change: rita proposes, sam (a policy approver) approves and publishes.
    rita = Principal(tenant_id=stack.tenant, subject="rita", kind=TokenKind.PERSONAL)
    sam = Principal(tenant_id=stack.tenant, subject="sam", kind=TokenKind.PERSONAL)
    await stack.store.put_approver(stack.tenant, "sam", [Role.POLICY_APPROVER])
    proposal = await propose_policy(
        stack.ports(),
        rita,
        tenant_id=stack.tenant,
        policy=tighter_hit_rate(fast_policy("test.v2")),
        reason="tighter hit rate",
    )
    await decide_proposal(
        stack.ports(),
        sam,
        tenant_id=stack.tenant,
        proposal_id=proposal.proposal_id,
        action=ProposalAction.APPROVE,
    )
    await halt_events(stack.store, stack.tenant)


def tighter_hit_rate(policy: PromotionPolicy) -> PromotionPolicy:
    data = policy.model_dump(mode="json")
    data["signal_quality_thresholds"]["observe_to_shadow"]["hit_rate_min"] = 0.53
    return PromotionPolicy.model_validate(data)


async def test_a_pack_over_the_real_stack_maps_the_period_and_opens_in_chromium(
    client: Client, sqlite_store: SqliteStore, task_queue: str, tenant: str, tmp_path: Path
) -> None:
    stack = Stack(client, sqlite_store, task_queue, tenant, tmp_path)
    await populate(stack)
    me = Principal(tenant_id=tenant, subject="compliance", kind=TokenKind.PERSONAL)
    pack = await audit_pack(
        stack.ports(), me, tenant_id=tenant, date_from=str(START), date_to=str(END)
    )
    s, f = pack.sections, pack.figures
    assert not pack.empty
    (deployment,) = s.deployments
    assert (deployment.strategy, deployment.from_stage, deployment.to_stage) == (
        "quant/edge",
        S.SHADOW,
        S.PAPER,
    )
    assert [(a.role, a.person) for a in deployment.approvals] == [
        ("risk_approver", "bob"),
        ("ops_approver", "carol"),
    ]
    # The tests are the record's snapshot, with the cited report's thresholds and verdicts.
    assert deployment.verdict == "ELIGIBLE" and len(deployment.tests) >= 10
    assert all(t.status in ("pass", "waived") and t.threshold is not None for t in deployment.tests)
    assert deployment.limit_envelope == fast_policy().limit_envelopes.paper
    assert deployment.designated_person is None  # SHADOW -> PAPER needs none
    (demotion,) = s.demotions
    assert (demotion.strategy, demotion.to_stage, demotion.reason_code) == (
        "quant/momo",
        S.SHADOW,
        "daily_loss_limit_breached",
    )
    assert any(i.event_type == "risk.circuit_breaker_triggered" for i in s.incidents)
    assert [c.policy_version for c in s.policy_changes] == ["test.v2"]
    assert [(e.event_type, e.by) for e in s.policy_changes[0].events] == [
        ("policy.proposed", "rita"),
        ("policy.approved", "sam"),
        ("policy.published", "sam"),
    ]
    # Both ends of the period are included, the instants just outside are not.
    assert [(h.halt_id, h.drill) for h in s.halts] == [("drill-1", True), ("halt-1", False)]
    assert s.halts[0].halted_seconds == 1800 and s.halts[1].resumed_at is None
    assert [(x.strategy, x.stage) for x in s.limits] == [("quant/edge", S.PAPER)]
    assert f.promotions_by_stage == {"PAPER": 1} and f.demotions_by_stage == {"PAPER": 1}
    assert (f.halts, f.drills, f.halts_not_resumed) == (1, 1, 1)
    assert (f.median_gate_closed_ms, f.max_gate_closed_ms, f.max_last_record_ms) == (26, 40, 120)
    assert f.median_approve_seconds == deployment.approve_seconds and f.policy_changes == 1
    assert f.breaker_demotions == 0 and f.incidents >= 1

    out = tmp_path / "pack"
    env = {"STRATGATE_DB": str(tmp_path / "governance.db")}
    result = sg(
        tmp_path,
        "audit",
        "pack",
        "--tenant",
        tenant,
        "--from",
        str(START),
        "--to",
        str(END),
        "--out",
        str(out),
        **env,
    )
    assert result.returncode == 0, result.stderr
    assert "deployments 1, demotions 1, halts 1, drills 1" in result.stdout
    written = json.loads((out / "pack.json").read_text())
    assert written["figures"]["promotions_by_stage"] == {"PAPER": 1}
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["files"]) >= {"summary.html", "deployments.json", "halts.json"}
    assert len(json.loads((out / "halts.json").read_text())) == 2

    seen: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = await browser.new_page()
        page.on("request", lambda r: seen.append(r.url))
        await page.goto((out / "summary.html").as_uri())
        assert await page.title() == f"Evidence pack {tenant} {START} to {END}"
        charts = page.locator("figure[data-chart] svg")
        assert await charts.count() == 3
        for name in ("stage_changes", "approval_times", "halt_timings"):
            chart = page.locator(f"figure[data-chart={name}] svg")
            box = await chart.bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 50, name
        stage_chart = await page.locator("figure[data-chart=stage_changes]").inner_text()
        assert "date (UTC)" in stage_chart and "records" in stage_chart
        assert "milliseconds" in await page.locator("figure[data-chart=halt_timings]").inner_text()
        text = await page.locator("body").inner_text()
        for cite in ("RTS 6 Art. 5", "RTS 6 Art. 9", "RTS 6 Art. 12", "SEC 15c3-5(e)"):
            assert cite in text
        assert "daily_loss_limit_breached" in text and "policy.approved by sam" in text
        assert await page.locator("#empty").count() == 0
        if os.environ.get("STRATGATE_SCREENSHOTS") == "1":
            await page.set_viewport_size({"width": 1200, "height": 900})
            await page.screenshot(path=str(SHOTS / "audit-pack.png"), full_page=True)
        await browser.close()
    assert all(url.startswith("file://") for url in seen), seen  # self-contained


async def test_an_empty_period_says_so(
    sqlite_store: SqliteStore, tenant: str, tmp_path: Path
) -> None:
    await halt_events(sqlite_store, tenant)
    out = tmp_path / "empty"
    env = {"STRATGATE_DB": str(tmp_path / "governance.db")}
    result = sg(
        tmp_path,
        "audit",
        "pack",
        "--tenant",
        tenant,
        "--from",
        "2020-01-01",
        "--to",
        "2020-12-31",
        "--out",
        str(out),
        **env,
    )
    assert result.returncode == 0, result.stderr
    assert "nothing was recorded in this period" in result.stdout
    pack = json.loads((out / "pack.json").read_text())
    assert pack["empty"] is True and pack["sections"]["halts"] == []
    html = (out / "summary.html").read_text()
    assert 'id="empty"' in html and "<svg" not in html
    assert "No deployment to PAPER or LIVE in the period." in html


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("2026-13-01", "2026-12-31", "--from"),
        ("2026-01-01", "tomorrow", "--to"),
        ("2026-02-01", "2026-01-31", "--to"),
    ],
)
async def test_bad_dates_are_refused_by_name(
    sqlite_store: SqliteStore, tenant: str, tmp_path: Path, start: str, end: str, field: str
) -> None:
    me = Principal(tenant_id=tenant, subject="compliance", kind=TokenKind.PERSONAL)
    from app.ports import Ports

    with pytest.raises(GovernanceError) as bad:
        await audit_pack(
            Ports(store=sqlite_store, client=None, task_queue="-"),
            me,
            tenant_id=tenant,
            date_from=start,
            date_to=end,
        )
    assert bad.value.field == field and bad.value.code == "invalid_request"
    out = tmp_path / "never"
    result = sg(
        tmp_path,
        "audit",
        "pack",
        "--tenant",
        tenant,
        "--from",
        start,
        "--to",
        end,
        "--out",
        str(out),
        STRATGATE_DB=str(tmp_path / "governance.db"),
    )
    refused(result, field)
    assert not out.exists()  # nothing written
