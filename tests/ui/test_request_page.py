"""Every state of the request page in headless Chromium, against the real app, a real worker,
the session's Temporal server and SQLite: waiting, awaiting approvals, a confirmation, a stale
report, ended requests, an unfreeze, the error pages, a form kept through a refresh, and charts
with axes, thresholds and hover values."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from evidence.files import FileEvidenceSource
from governance.metrics.sessions import session_after
from governance.promotion import Phase
from governance.records import StrategyDoc
from governance.risk_events import RiskEventKind
from governance.stages import Decision, execution_mode_for
from governance.stages import LifecycleStage as S
from tests.ui.conftest import ARGS, CHROMIUM, TEMPORAL_UI
from tests.ui.test_browser import shot, sign_in
from tests.workflows.evidence_fixtures import generate_for
from tests.workflows.harness import Stack, fast_policy
from workflows import client as wf
from workflows.promotion_state import CancelInput

Site = tuple[str, Stack, dict[str, str]]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        found = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield found
        await found.close()


async def add_strategy(stack: Stack, name: str, edge: float, stage: S) -> None:
    generate_for(FileEvidenceSource(stack.tmp / "evidence"), stack.tenant, "quant", name, edge)
    await stack.store.register_strategy(
        StrategyDoc(
            tenant_id=stack.tenant,
            uid="quant",
            strategy_id=name,
            lifecycle_stage=stage,
            execution_mode=execution_mode_for(stage),
            last_stage_change_at=datetime.now(UTC) - timedelta(days=60),
        )
    )


async def cancel(stack: Stack, strategy_id: str, reason: str) -> None:
    await wf.cancel(
        stack.client,
        stack.tenant,
        "quant",
        strategy_id,
        CancelInput(user="quant", reason=reason),
    )


async def test_waiting_shows_required_counters_every_criterion_and_charts(
    site: Site, browser: Browser
) -> None:
    base, stack, tokens = site
    windows = fast_policy().stability_windows.model_dump(mode="json")
    windows["shadow_to_paper"] = {
        "min_sessions": 100,
        "min_fills": 200,
        "min_signals_if_low_turnover": 1000,
        "low_turnover_max": 0.1,
    }
    await stack.store.put_policy(stack.tenant, fast_policy("test.v2", stability_windows=windows))
    await stack.request("edge", S.PAPER)
    status = await stack.wait_for("edge", lambda s: s.report is not None)
    assert status.phase == Phase.WAITING_FOR_WINDOW
    w = status.report.window if status.report else None
    assert w is not None and w.sessions < 100 and 0 < w.fills < 200

    bob = await sign_in(browser, base, tokens["bob"])
    await bob.goto(f"{base}/ui/requests/quant/edge")
    await expect(bob.locator("#phase")).to_have_text("WAITING_FOR_WINDOW")
    await expect(bob.locator("#kind")).to_have_text("Promotion request")
    # The counters the window requires, each with its bar and expected completion...
    sessions = bob.locator("#counter-sessions")
    await expect(sessions).to_contain_text(f"{w.sessions} / 100")
    await expect(bob.locator("#p-sessions")).to_have_attribute("max", "100")
    due = session_after("XNYS", w.end.date(), 100 - w.sessions)
    assert due is not None
    await expect(sessions.locator(".expected")).to_have_text(
        re.compile(rf"in {100 - w.sessions} sessions, on {due.isoformat()}")
    )
    fills = bob.locator("#counter-fills")
    await expect(fills).to_contain_text(f"{w.fills} / 200")
    await expect(fills).to_contain_text("or 1000 signals if turnover is low")
    await expect(fills.locator(".expected")).to_contain_text("at the window's rate so far")
    # ... and none it does not require.
    for absent in ("evaluations", "orders", "signals"):
        await expect(bob.locator(f"#counter-{absent}")).to_have_count(0)
    # Every criterion of SHADOW -> PAPER, with comparator, threshold, rounded value and margin.
    rows = bob.get_by_role("table", name="criteria").locator("tbody tr")
    assert status.report is not None
    await expect(rows).to_have_count(len(status.report.criteria))
    drawdown = bob.locator("#criterion-max_drawdown")
    await expect(drawdown.locator("td").nth(1)).to_have_text("<= 3.00 %")
    measured = status.report.criterion("max_drawdown")
    assert measured is not None and measured.value is not None
    await expect(drawdown.locator("td").nth(2)).to_have_text(f"{measured.value * 100:.2f} %")
    margin = (0.03 - measured.value) * 100
    sign = "+" if margin >= 0 else "-"
    await expect(drawdown.locator("td").nth(3)).to_have_text(f"{sign}{abs(margin):.2f} pp")
    await expect(bob.locator("#criterion-sharpe_daily td").nth(1)).to_have_text(">= 0.2 ratio")
    await expect(bob.get_by_role("table", name="evidence")).to_contain_text("shadow_fills")

    # Charts: dates on the x axis, the unit on the y axis, the limit as a line, hover values.
    chart = await bob.evaluate(
        """() => { const u = window.stratgateCharts.drawdown;
        return {axes: u.axes.map(a => a.label), series: u.series.map(s => s.label),
                limit: u.data[2][0], points: u.data[0].length}; }"""
    )
    assert chart["axes"] == ["date (UTC)", "drawdown"]
    assert chart["series"][2] == "drawdown limit -3.00 %" and chart["limit"] == -0.03
    assert chart["points"] >= 2
    equity = await bob.evaluate("() => window.stratgateCharts.equity.axes[1].label")
    assert equity == "equity (x start)"
    await bob.locator("#chart-drawdown .u-over").hover()  # its middle, scrolled into view
    legend = bob.locator("#chart-drawdown .u-legend .u-series").first.locator(".u-value")
    await expect(legend).to_have_text(re.compile(r"\d{4}-\d{2}-\d{2}"))
    value = bob.locator("#chart-drawdown .u-legend .u-series").nth(1).locator(".u-value")
    await expect(value).to_have_text(re.compile(r"-?\d+\.\d\d %"))

    # The window re-evaluates every second: a new hash is noted, the page never reloads for it.
    await bob.evaluate("() => { window.stillHere = true; }")
    await expect(bob.locator("#refresh-note")).to_contain_text("re-evaluated", timeout=15_000)
    assert await bob.evaluate("() => window.stillHere === true")
    assert (await stack.status("edge")).report != status.report
    await shot(bob, "request-waiting")

    link = bob.locator("#temporal-link")
    href = await link.get_attribute("href")
    assert href is not None and href.startswith(f"{TEMPORAL_UI}/namespaces/default/workflows?")
    assert "promotion%2F" in href and "WorkflowId" in href
    await bob.locator("#policy-link").click()
    await expect(bob.locator("#policy-version")).to_have_text("test.v2")
    diff = bob.get_by_role("table", name="policy changes")
    row = diff.get_by_role("row").filter(has_text="stability_windows.shadow_to_paper.min_sessions")
    await expect(row).to_contain_text("0")
    await expect(row).to_contain_text("100")
    # The header, min_sessions, min_fills and the low-turnover alternative's two (the versions
    # are the columns' headings, not a changed field).
    await expect(diff.get_by_role("row")).to_have_count(5)
    await expect(diff).to_contain_text("low_turnover_max")
    await cancel(stack, "edge", "test over")


async def test_awaiting_approvals_confirmation_then_the_final_report_hash_note(
    site: Site, browser: Browser
) -> None:
    base, stack, tokens = site
    await stack.request("edge", S.PAPER)
    await stack.wait_phase("edge", Phase.AWAITING_APPROVALS)
    bob = await sign_in(browser, base, tokens["bob"])
    await bob.goto(f"{base}/ui/requests/quant/edge")
    no_window = "This transition requires no minimum window."
    await expect(bob.locator("#progress")).to_have_text(no_window)
    approvals = bob.get_by_role("table", name="approvals")
    await expect(approvals).to_contain_text("risk_approver")
    await expect(approvals).to_contain_text("ops_approver")
    await expect(approvals.locator("tr.muted")).to_have_count(2)  # both missing
    await shot(bob, "request-awaiting")
    await bob.get_by_label("Comment").fill("limits reviewed")
    await bob.get_by_role("button", name="Approve").click()
    confirmation = bob.locator("#confirmation")
    await expect(confirmation).to_have_text(
        re.compile(
            r"You approved this request as risk_approver\.\s+The request is now "
            r"AWAITING_APPROVALS; still missing: ops_approver\."
        )
    )
    await shot(bob, "request-approved")

    carol = await sign_in(browser, base, tokens["carol"])
    await carol.goto(f"{base}/ui/requests/quant/edge")
    await carol.get_by_role("button", name="Approve").click()
    assert (await stack.outcome("edge")).phase == Phase.COMMITTED
    await expect(carol.locator("#phase-ended")).to_have_text("COMMITTED")
    await expect(carol.locator("#confirmation")).to_contain_text("now COMMITTED")
    ended = await stack.status("edge")
    assert ended.report is not None
    # The final check re-evaluated a moment later: its report's hash differs from the one each
    # approval was given on, and the page says why.
    notes = carol.locator(".hash-note")
    await expect(notes).to_have_count(2)
    await expect(notes.first).to_contain_text(f"final report {ended.report.metrics_hash[:16]}")
    await expect(notes.first).to_contain_text("window end moved")
    await expect(carol.get_by_role("table", name="approvals")).not_to_contain_text("missing")
    await expect(carol.locator("form")).to_have_count(1)  # sign out only: no approve/reject
    await carol.get_by_role("link", name=re.compile(ended.record_id or "none")).click()
    await expect(carol.get_by_role("table", name="records")).to_contain_text("risk_approver: bob")


async def test_a_form_is_kept_through_a_refresh_and_a_stale_report_is_refused_on_a_page(
    site: Site, browser: Browser
) -> None:
    base, stack, tokens = site
    first = await stack.request("edge", S.PAPER)
    shown = await stack.wait_phase("edge", Phase.AWAITING_APPROVALS)
    bob = await sign_in(browser, base, tokens["bob"])
    await bob.goto(f"{base}/ui/requests/quant/edge")
    await bob.evaluate("() => { window.stillHere = true; }")
    await bob.get_by_label("Comment").fill("half-written review")
    # Meanwhile the request is replaced by a new one, with a newer report.
    await cancel(stack, "edge", "re-requested")
    await stack.outcome("edge")
    await stack.request("edge", S.PAPER)
    current = await stack.wait_phase("edge", Phase.AWAITING_APPROVALS)
    assert current.request_id != first.request_id and current.report and shown.report
    assert current.report.metrics_hash != shown.report.metrics_hash
    await expect(bob.locator("#refresh-note")).to_contain_text("your text is kept", timeout=15_000)
    assert await bob.evaluate("() => window.stillHere === true")
    await expect(bob.get_by_label("Comment")).to_have_value("half-written review")
    await bob.get_by_role("button", name="Approve").click()
    await expect(bob.locator("#problem")).to_have_text("The report changed since you read it")
    await expect(bob.locator("#current-hash")).to_have_text(current.report.metrics_hash[:16])
    await expect(bob.locator("#what-changed")).to_contain_text("window end moved")
    await expect(bob.locator("#kept-comment")).to_have_value("half-written review")
    await shot(bob, "request-stale")
    assert (await stack.status("edge")).approvals == []  # nothing was counted
    await bob.locator("#read-current").click()
    await expect(bob.locator("#report-hash")).to_have_text(current.report.metrics_hash)
    await cancel(stack, "edge", "test over")


async def test_ended_requests_say_how_they_ended_and_list_no_missing_approval(
    site: Site, browser: Browser
) -> None:
    base, stack, tokens = site
    await add_strategy(stack, "noise", 0.0, S.OBSERVE)
    await stack.request("noise", S.SHADOW)
    ineligible = await stack.wait_phase("noise", Phase.INELIGIBLE)
    alice = await sign_in(browser, base, tokens["alice"])
    await alice.goto(f"{base}/ui/requests/quant/noise")
    await expect(alice.locator("#phase-ended")).to_have_text("INELIGIBLE")
    assert ineligible.status_reason
    await expect(alice.locator("#how-ended")).to_have_text(ineligible.status_reason)
    await expect(alice.get_by_role("table", name="approvals")).not_to_contain_text("missing")
    await expect(alice.locator("form[aria-label=approve]")).to_have_count(0)
    await expect(alice.locator("#criterion-ic_mean td").nth(4)).to_contain_text("✘ fail")
    # OBSERVE -> SHADOW's charts: daily IC with the IC minimum, hit rate with its minimum.
    ic = await alice.evaluate(
        """() => { const u = window.stratgateCharts.daily_ic;
        return {axes: u.axes.map(a => a.label), line: u.series[2].label, at: u.data[2][0]}; }"""
    )
    assert ic["axes"] == ["date (UTC)", "IC (rho)"]
    assert ic["line"] == "IC minimum 0.02 (for the mean)" and ic["at"] == 0.02
    hit = await alice.evaluate("() => window.stratgateCharts.hit_rate.series[2].label")
    assert hit == "hit rate minimum 52.00 %"
    await shot(alice, "request-ended")

    # An approval posted from a page opened before the request ended: a page saying so.
    await stack.request("edge", S.PAPER)
    await stack.wait_phase("edge", Phase.AWAITING_APPROVALS)
    bob = await sign_in(browser, base, tokens["bob"])
    await bob.goto(f"{base}/ui/requests/quant/edge")
    await bob.get_by_label("Comment").fill("too late")
    await cancel(stack, "edge", "withdrawn by the desk")
    await stack.outcome("edge")
    await bob.get_by_role("button", name="Approve").click()
    await expect(bob.locator("#problem")).to_have_text("This request has ended")
    await expect(bob.locator("#phase-ended")).to_have_text("CANCELLED")
    await expect(bob.locator("#how-ended")).to_contain_text("withdrawn by the desk")
    await expect(bob.locator("#kept-comment")).to_have_text("too late")

    # A rejection is confirmed, and the page shows the ended request.
    await stack.request("edge", S.PAPER)
    await stack.wait_phase("edge", Phase.AWAITING_APPROVALS)
    await bob.goto(f"{base}/ui/requests/quant/edge")
    await bob.get_by_label("Why").fill("drawdown too close to the limit")
    await bob.get_by_role("button", name="Reject").click()
    await expect(bob.locator("#confirmation")).to_contain_text(
        "You rejected this request as risk_approver"
    )
    await expect(bob.locator("#phase-ended")).to_have_text("REJECTED")
    await expect(bob.locator("#how-ended")).to_contain_text("drawdown too close to the limit")
    await shot(bob, "request-rejected")


async def test_an_unfreeze_says_so_with_the_freeze_reason_and_the_event(
    site: Site, browser: Browser
) -> None:
    base, stack, tokens = site
    event = await stack.risk("edge", RiskEventKind.MARKETDATA_STALE, event_id="md-stale-7")
    await stack.applied("edge", event)
    await stack.request("edge", S.OBSERVE, decision=Decision.UNFREEZE)
    await stack.wait_phase("edge", Phase.AWAITING_APPROVALS)
    doc = await stack.store.get_strategy(stack.tenant, "quant", "edge")
    assert doc is not None and doc.freeze and doc.freeze_reason
    bob = await sign_in(browser, base, tokens["bob"])
    await bob.goto(f"{base}/ui/requests/quant/edge")
    await expect(bob.locator("#kind")).to_have_text("Unfreeze request")
    await expect(bob.locator("#freeze-reason")).to_have_text(doc.freeze_reason)
    await expect(bob.locator("#freeze-event")).to_contain_text("md-stale-7")
    await expect(bob.locator("#freeze-event")).to_contain_text("marketdata_stale")
    await shot(bob, "request-unfreeze")
    await bob.get_by_label("Comment").fill("feed restored")
    await bob.get_by_role("button", name="Approve").click()
    await expect(bob.locator("#confirmation")).to_contain_text("as risk_approver")
    assert (await stack.outcome("edge")).phase == Phase.COMMITTED


async def test_error_pages_and_the_strategy_list(site: Site, browser: Browser) -> None:
    base, stack, tokens = site
    page: Page = await (await browser.new_context()).new_page()
    await page.goto(base + "/ui/login")
    await page.get_by_label("Personal token").fill("not-a-real-token")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_contain_text("that token is wrong")
    await expect(page.get_by_role("alert")).to_contain_text("unknown token")
    await page.get_by_label("Personal token").fill(tokens["risk-engine"])
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_contain_text("that is a service token")
    await shot(page, "login-wrong-token")

    carol = await sign_in(browser, base, tokens["carol"])
    response = await carol.goto(f"{base}/ui/requests/quant/no-such")
    assert response is not None and response.status == 404
    await expect(carol.locator("#problem")).to_have_text("Unknown strategy")
    await expect(carol.get_by_role("alert")).to_contain_text("no strategy quant/no-such")
    await shot(carol, "unknown-strategy")
    response = await carol.goto(f"{base}/ui/strategies/quant/no-such")
    assert response is not None and response.status == 404
    await expect(carol.locator("#problem")).to_have_text("Unknown strategy")
    response = await carol.goto(f"{base}/ui/requests/quant/edge")  # registered, never requested
    assert response is not None and response.status == 404
    await expect(carol.locator("#problem")).to_have_text("No request yet")
    await carol.get_by_role("link", name="The strategy's timeline and records").click()
    await expect(carol.locator("#stage")).to_have_text("SHADOW")

    await add_strategy(stack, "calm", 0.6, S.OBSERVE)
    await carol.get_by_role("link", name="Strategies").click()
    table = carol.get_by_role("table", name="strategies")
    await expect(table.get_by_role("row")).to_have_count(3)
    await expect(table.get_by_role("columnheader")).to_have_count(7)
    await table.get_by_role("link", name="quant/calm").click()
    await expect(carol.locator("#stage")).to_have_text("OBSERVE")
    audit = carol.get_by_role("table", name="audit trail")
    await expect(audit.get_by_role("columnheader", name="Actor")).to_be_visible()


async def test_without_the_chart_library_the_page_says_so(
    site: Site, browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    import api.charts

    base, stack, tokens = site
    await stack.request("edge", S.PAPER)
    await stack.wait_phase("edge", Phase.AWAITING_APPROVALS)
    monkeypatch.setattr(api.charts, "UPLOT_DIST", stack.tmp / "not-installed")
    bob = await sign_in(browser, base, tokens["bob"])
    await bob.goto(f"{base}/ui/requests/quant/edge")
    await expect(bob.locator("#no-chart-library")).to_contain_text(
        "The chart library is not installed"
    )
    await expect(bob.get_by_role("img", name="Drawdown")).to_contain_text("drawdown limit")
    await cancel(stack, "edge", "test over")
