"""The approver web UI: server-rendered pages over the same rules as the API.

Sign-in checks the token and stores it in an HttpOnly cookie; every action goes through the same
workflow updates and the same identity checks as /v1, so the UI can do nothing the API refuses.
Pages: the queue and sign-in here, a request and its actions in `ui_request.py`, strategies,
records, the operator's view and policies in `ui_records.py`.
"""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import quote

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from api import ui_records, ui_request
from api.charts import UPLOT_DIST, chart_library_installed
from api.deps import ApiDeps, principal_of_token
from api.ui_common import STATIC, TEMPLATES, page, signable, signed_in, to_login
from app import registry, requests
from governance.errors import GovernanceError
from governance.identity import TokenKind
from governance.records import RequestStatus

# Personal tokens and OIDC JWTs are both visible ASCII.
TOKEN_TEXT = re.compile(r"[\x21-\x7e]{1,4096}")


def install(app: FastAPI) -> None:
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="ui-static")
    if chart_library_installed():
        app.mount("/ui/assets/uplot", StaticFiles(directory=UPLOT_DIST), name="ui-uplot")

    @app.get("/", include_in_schema=False)
    async def root() -> Response:
        return RedirectResponse("/ui/", status_code=303)

    @app.get("/ui/login", response_class=HTMLResponse, include_in_schema=False)
    async def login_page(request: Request, error: str = "") -> Response:
        return TEMPLATES.TemplateResponse(request, "login.html", {"error": error})

    @app.post("/ui/login", include_in_schema=False)
    async def login(request: Request, token: Annotated[str, Form()] = "") -> Response:
        token = token.strip()
        if not TOKEN_TEXT.fullmatch(token):
            # A cookie carries Latin-1 at most: anything else would fail when it is set.
            return _login_refused(
                request, "that is not a stratgate token (visible ASCII, at most 4096 characters)"
            )
        d: ApiDeps = request.app.state.deps
        try:
            who = await principal_of_token(d, token)
        except GovernanceError as exc:
            return _login_refused(
                request, f"that token is wrong ({exc.message}): nothing signed in"
            )
        if who.kind != TokenKind.PERSONAL:
            return _login_refused(
                request, "that is a service token: sign in with your personal token"
            )
        response = RedirectResponse("/ui/", status_code=303)
        response.set_cookie("stratgate_token", token, httponly=True, samesite="strict")
        return response

    @app.post("/ui/logout", include_in_schema=False)
    async def logout() -> Response:
        response = RedirectResponse("/ui/login", status_code=303)
        response.delete_cookie("stratgate_token")
        return response

    @app.get("/ui/", response_class=HTMLResponse, include_in_schema=False)
    async def queue(request: Request) -> Response:
        who, d = await signed_in(request)
        if who is None:
            return to_login(request)
        roles = await registry.my_roles(d.ports(), who)
        items = []
        pending = await requests.list_requests(
            d.ports(), who, tenant_id=who.tenant_id, uid=None, strategy_id=None
        )
        for req in pending:
            if req.status != RequestStatus.PENDING:
                continue
            status = await ui_request.status_or_none(d, who, req.uid, req.strategy_id)
            if status is None or status.request_id != req.request_id:
                continue
            mine = [r for r in signable(status.missing_roles) if r in roles]
            items.append((not mine, status.requested_at, {"status": status, "mine": mine}))
        items.sort(key=lambda i: (i[0], i[1]))
        return page(request, "queue.html", who, roles, items=[i[2] for i in items])

    ui_request.install(app)
    ui_records.install(app)


def _login_refused(request: Request, why: str) -> Response:
    """Back to the sign-in page saying why; no cookie is set."""
    return RedirectResponse(f"/ui/login?error={quote(why)}", status_code=303)
