"""Decision replay over HTTP: the JSON explanation of a record, and its page in the web UI
(thin: each calls `app.explain`)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import Caller, Deps
from api.errors import status_for
from api.ui_common import page, signed_in
from app.explain import explain_record
from governance.errors import GovernanceError
from governance.replay import Explanation

router = APIRouter(prefix="/v1", tags=["records"])


@router.get("/tenants/{tenant}/records/{record_id}/explain", response_model=Explanation)
async def explain(tenant: str, record_id: str, d: Deps, who: Caller) -> Explanation:
    """The record's eligibility report recomputed from the evidence, policy version and window
    it cites, criterion by criterion, and whether `metrics_hash` matches."""
    return await explain_record(d.ports(), who, tenant_id=tenant, record_id=record_id)


def install(app: FastAPI) -> None:
    app.include_router(router)

    @app.get(
        "/ui/records/{record_id}/explain", response_class=HTMLResponse, include_in_schema=False
    )
    async def explain_page(request: Request, record_id: str) -> Response:
        who, d = await signed_in(request)
        if who is None:
            return RedirectResponse("/ui/login", status_code=303)
        try:
            found = await explain_record(
                d.ports(), who, tenant_id=who.tenant_id, record_id=record_id
            )
        except GovernanceError as exc:
            return page(
                request,
                "explain.html",
                who,
                [],
                record_id=record_id,
                error=exc.message,
                status_code=status_for(exc.code),
            )
        return page(request, "explain.html", who, [], record_id=record_id, e=found)
