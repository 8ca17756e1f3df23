"""The approver UI in headless Chromium (Debian's chromium, driven by Playwright), against the
real app, a real worker, the session's Temporal server and SQLite."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
from playwright.async_api import Browser, Page, async_playwright, expect

from governance.promotion import Phase
from governance.stages import LifecycleStage as S
from tests.ui.conftest import ARGS, CHROMIUM
from tests.workflows.harness import Stack, fast_policy

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


async def sign_in(browser: Browser, base: str, token: str) -> Page:
    page = await (await browser.new_context(viewport={"width": 1280, "height": 800})).new_page()
    await page.goto(base + "/ui/login")
    await page.get_by_label("Personal token").fill(token)
    await page.get_by_role("button", name="Sign in").click()
    return page


async def shot(page: Page, name: str) -> None:
    if os.environ.get("STRATGATE_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


async def test_two_approvers_then_a_risk_system_demotes(
    site: tuple[str, Stack, dict[str, str]],
) -> None:
    base, stack, tokens = site
    # A window with minimums, so the page shows their progress (the fixture's policy has none).
    windows = {"shadow_to_paper": {"min_sessions": 5, "min_fills": 20}}
    await stack.store.put_policy(stack.tenant, fast_policy("test.v2", stability_windows=windows))
    await stack.request("edge", S.PAPER)
    await stack.wait_phase("edge", Phase.AWAITING_APPROVALS)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        bob = await sign_in(browser, base, tokens["bob"])
        await expect(bob.get_by_role("heading", name="Requests awaiting approval")).to_be_visible()
        row = bob.get_by_role("row").filter(has_text="quant/edge")
        await expect(row).to_contain_text("risk_approver")
        await shot(bob, "queue")
        await row.get_by_role("link", name="quant/edge").click()
        criteria = bob.get_by_role("table", name="criteria")
        await expect(criteria).to_contain_text("sharpe_daily")
        await expect(criteria).to_contain_text("✔ pass")
        await expect(bob.locator("#verdict")).to_have_text("ELIGIBLE")
        await expect(bob.locator("#p-sessions")).to_be_visible()
        await expect(bob.get_by_role("img", name="Equity curve")).to_be_visible()
        await expect(bob.get_by_role("img", name="Drawdown")).to_be_visible()
        await shot(bob, "request")
        await bob.get_by_label("Comment").fill("limits and breakers reviewed")
        await bob.get_by_role("button", name="Approve").click()
        await expect(bob.locator("#confirmation")).to_contain_text("approved this request as")
        approvals = bob.get_by_role("table", name="approvals")
        await expect(approvals.get_by_role("row").filter(has_text="bob")).to_contain_text(
            "risk_approver"
        )
        await expect(approvals.get_by_role("row").filter(has_text="missing")).to_contain_text(
            "ops_approver"
        )

        carol = await sign_in(browser, base, tokens["carol"])
        await carol.goto(f"{base}/ui/requests/quant/edge")
        await carol.get_by_role("button", name="Approve").click()
        outcome = await stack.outcome("edge")
        assert outcome.phase == Phase.COMMITTED
        await carol.goto(f"{base}/ui/strategies/quant/edge")
        await expect(carol.locator("#stage")).to_have_text("PAPER")
        await expect(carol.locator("#chain")).to_contain_text("verified (1 records)")

        async with httpx.AsyncClient(base_url=base) as http:
            posted = await http.post(
                f"/v1/tenants/{stack.tenant}/risk-events",
                json={
                    "event_id": "dl-1",
                    "uid": "quant",
                    "strategy_id": "edge",
                    "kind": "marketdata_stale",
                },
                headers={"authorization": f"Bearer {tokens['risk-engine']}"},
            )
            assert posted.status_code == 202, posted.text
        # The open page refreshes itself when the strategy changes.
        await expect(carol.locator("#stage")).to_have_text("OBSERVE", timeout=15_000)
        await expect(carol.locator("#frozen")).to_contain_text("data_integrity")
        await expect(carol.locator("#chain")).to_contain_text("verified (2 records)")
        await shot(carol, "strategy")
        # Each record replays from the strategy page: the promotion equal, the demotion needs none.
        await carol.get_by_role("link", name="explain record 1").click()
        await expect(carol.locator("#verdict")).to_contain_text("Replays equal")
        await expect(carol.locator("#hash")).to_contain_text("matches")
        await expect(carol.get_by_role("table").first).to_contain_text("sharpe_daily")
        await carol.goto(f"{base}/ui/strategies/quant/edge")
        await carol.get_by_role("link", name="explain record 2").click()
        await expect(carol.locator("#verdict")).to_contain_text("no evaluation: decided by")
        await carol.goto(f"{base}/ui/operator")
        await expect(carol.locator("#demotions")).to_contain_text("demote PAPER → OBSERVE")
        await shot(carol, "operator")
        await browser.close()
