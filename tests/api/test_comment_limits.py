"""One comment limit for the API and the web UI: the page says why, and nothing is counted."""

from __future__ import annotations

import re

from governance.bounds import COMMENT_MAX
from governance.identity import TokenKind
from governance.promotion import Phase
from tests.api.conftest import Api

TOO_LONG = f"comment: {COMMENT_MAX + 1} characters exceeds the limit of {COMMENT_MAX} characters"


async def awaiting_unfreeze(api: Api) -> None:
    """momo frozen by a critical breaker, and its unfreeze waiting for a risk approver."""
    base = f"/v1/tenants/{api.stack.tenant}"
    svc, quant = await api.token("risk-engine", kind=TokenKind.SERVICE), await api.token("quant")
    event = {"event_id": "c1", "uid": "quant", "strategy_id": "momo", "kind": "drawdown_breaker"}
    assert (await api.http.post(base + "/risk-events", json=event, headers=svc)).status_code == 202
    await api.stack.wait_records("momo", 1)
    unfreeze = base + "/strategies/quant/momo/unfreeze-requests"
    r = await api.http.post(unfreeze, json={"reason": "reviewed"}, headers=quant)
    assert r.status_code == 201, r.text
    await api.stack.wait_phase("momo", Phase.AWAITING_APPROVALS)


async def test_a_long_comment_is_refused_by_the_ui_and_the_api_alike(api: Api) -> None:
    await awaiting_unfreeze(api)
    bob = await api.token("bob")
    page = "/ui/requests/quant/momo"
    shown = await api.http.get(page, headers=bob)
    assert shown.status_code == 200
    assert shown.text.count(f'maxlength="{COMMENT_MAX}"') == 2  # the approve and reject forms
    before = api.snapshot()
    for action in ("approve", "reject"):
        form = {"role": "risk_approver", "comment": "x" * (COMMENT_MAX + 1)}
        r = await api.http.post(f"{page}/{action}", data=form, headers=bob)
        assert r.status_code == 303
        refused = await api.http.get(r.headers["location"], headers=bob)
        (alert,) = re.findall(r'<p class="error" role="alert">([^<]*)</p>', refused.text)
        assert alert == TOO_LONG
    one = f"/v1/tenants/{api.stack.tenant}/strategies/quant/momo/promotion"
    for action in ("approve", "reject"):
        body = {"role": "risk_approver", "comment": "x" * (COMMENT_MAX + 1)}
        r = await api.http.post(f"{one}/{action}", json=body, headers=bob)
        assert r.status_code == 422 and r.json()["field"] == "comment", r.text
    assert (await api.stack.status("momo")).approvals == []
    assert api.snapshot() == before
    # At the limit the approval counts, with its whole comment.
    form = {"role": "risk_approver", "comment": "y" * COMMENT_MAX}
    r = await api.http.post(f"{page}/approve", data=form, headers=bob)
    assert r.status_code == 303 and "error" not in r.headers["location"]
    outcome = await api.stack.outcome("momo")
    assert outcome.phase == "COMMITTED"
    (record,) = [r for r in await api.stack.store.list_records(api.stack.tenant) if r.approved_by]
    assert record.approved_by[0].comment == "y" * COMMENT_MAX
