"""The approver web UI: server-rendered pages over the same rules as the API.

Sign-in stores the bearer token in an HttpOnly cookie; every action goes through the same
workflow updates and the same identity checks as /v1, so the UI can do nothing the API refuses.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from temporalio.service import RPCError

from api.charts import report_charts
from api.deps import ApiDeps, principal
from app import records as records_uc
from app import registry, requests
from governance.bounds import COMMENT_MAX, check_text
from governance.chain import ChainVerification
from governance.errors import GovernanceError, NotFound, RecordCorrupt, UnknownStrategy
from governance.identity import Principal, TokenKind
from governance.records import RequestStatus
from governance.roles import Role
from workflows.promotion_state import PromotionStatus

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.globals["COMMENT_MAX"] = COMMENT_MAX
# Personal tokens and OIDC JWTs are both visible ASCII.
TOKEN_TEXT = re.compile(r"[\x21-\x7e]{1,4096}")


def install(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    async def root() -> Response:
        return RedirectResponse("/ui/", status_code=303)

    @app.get("/ui/login", response_class=HTMLResponse, include_in_schema=False)
    async def login_page(request: Request, error: str = "") -> Response:
        return TEMPLATES.TemplateResponse(request, "login.html", {"error": error})

    @app.post("/ui/login", include_in_schema=False)
    async def login(token: Annotated[str, Form()]) -> Response:
        token = token.strip()
        if not TOKEN_TEXT.fullmatch(token):
            # A cookie carries Latin-1 at most: anything else would fail when it is set.
            error = quote("that is not a stratgate token (visible ASCII, at most 4096 characters)")
            return RedirectResponse(f"/ui/login?error={error}", status_code=303)
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
        who, d = await _signed_in(request)
        if who is None:
            return RedirectResponse("/ui/login", status_code=303)
        roles = await registry.my_roles(d.ports(), who)
        items = []
        pending = await requests.list_requests(
            d.ports(), who, tenant_id=who.tenant_id, uid=None, strategy_id=None
        )
        for req in pending:
            if req.status != RequestStatus.PENDING:
                continue
            status = await _status(d, who, req.uid, req.strategy_id)
            if status is None or status.request_id != req.request_id:
                continue
            mine = [r for r in status.missing_roles if r in roles]
            items.append((not mine, status.requested_at, {"status": status, "mine": mine}))
        items.sort(key=lambda i: (i[0], i[1]))
        return _page(request, "queue.html", who, roles, items=[i[2] for i in items])

    @app.get(
        "/ui/requests/{uid}/{strategy_id}", response_class=HTMLResponse, include_in_schema=False
    )
    async def request_page(
        request: Request, uid: str, strategy_id: str, error: str = ""
    ) -> Response:
        who, d = await _signed_in(request)
        if who is None:
            return RedirectResponse("/ui/login", status_code=303)
        status = await _status(d, who, uid, strategy_id)
        if status is None:
            return _page(
                request, "missing.html", who, [], what=f"{uid}/{strategy_id}", status_code=404
            )
        roles = await registry.my_roles(d.ports(), who)
        report = None
        if status.report:
            with contextlib.suppress(NotFound):
                report = await requests.read_report(
                    d.ports(), who, tenant_id=who.tenant_id, metrics_hash=status.report.metrics_hash
                )
        return _page(
            request,
            "request.html",
            who,
            roles,
            s=status,
            report=report,
            error=error,
            charts=report_charts(report),
            can_sign=[r for r in status.missing_roles if r in roles],
            can_reject=[
                r
                for r in dict.fromkeys(status.missing_roles + [a.role for a in status.approvals])
                if r in roles
            ],
            version=_version(status),
        )

    @app.get("/ui/requests/{uid}/{strategy_id}/version", include_in_schema=False)
    async def request_version(request: Request, uid: str, strategy_id: str) -> dict[str, str]:
        who, d = await _signed_in(request)
        if who is None:
            return {"version": "signed-out"}
        status = await _status(d, who, uid, strategy_id)
        return {"version": _version(status) if status else "none"}

    @app.post("/ui/requests/{uid}/{strategy_id}/approve", include_in_schema=False)
    async def approve(
        request: Request,
        uid: str,
        strategy_id: str,
        role: Annotated[Role, Form()],
        metrics_hash: Annotated[str, Form()] = "",
        comment: Annotated[str, Form()] = "",
        confirmation_token: Annotated[str, Form()] = "",
    ) -> Response:
        who, d = await _signed_in(request)
        if who is None:
            return RedirectResponse("/ui/login", status_code=303)
        if too_long := check_text(comment, "comment", COMMENT_MAX):
            return _back(uid, strategy_id, str(too_long))
        return await _act(
            lambda: requests.approve(
                d.ports(),
                who,
                tenant_id=who.tenant_id,
                uid=uid,
                strategy_id=strategy_id,
                role=role,
                metrics_hash=metrics_hash or None,
                comment=comment,
                confirmation_token=confirmation_token or None,
            ),
            uid,
            strategy_id,
        )

    @app.post("/ui/requests/{uid}/{strategy_id}/reject", include_in_schema=False)
    async def reject(
        request: Request,
        uid: str,
        strategy_id: str,
        role: Annotated[Role, Form()],
        comment: Annotated[str, Form()] = "",
    ) -> Response:
        who, d = await _signed_in(request)
        if who is None:
            return RedirectResponse("/ui/login", status_code=303)
        if too_long := check_text(comment, "comment", COMMENT_MAX):
            return _back(uid, strategy_id, str(too_long))
        return await _act(
            lambda: requests.reject(
                d.ports(),
                who,
                tenant_id=who.tenant_id,
                uid=uid,
                strategy_id=strategy_id,
                role=role,
                comment=comment,
            ),
            uid,
            strategy_id,
        )

    @app.get(
        "/ui/strategies/{uid}/{strategy_id}", response_class=HTMLResponse, include_in_schema=False
    )
    async def strategy_page(request: Request, uid: str, strategy_id: str) -> Response:
        who, d = await _signed_in(request)
        if who is None:
            return RedirectResponse("/ui/login", status_code=303)
        ports, where = (
            d.ports(),
            {"tenant_id": who.tenant_id, "uid": uid, "strategy_id": strategy_id},
        )
        try:
            doc = await registry.show_strategy(ports, who, **where)
        except UnknownStrategy:
            return _page(
                request, "missing.html", who, [], what=f"{uid}/{strategy_id}", status_code=404
            )
        chain: ChainVerification | None = None
        broken: str | None = None
        try:
            records = await records_uc.list_records(ports, who, **where)
        except RecordCorrupt as exc:
            records, broken = [], exc.message
        else:
            found = await records_uc.verify_records(ports, who, **where)
            chain = found.get((uid, strategy_id))
            if chain is not None and not chain.ok:
                broken = f"{chain.first_broken_record_id}: {chain.reason}"
        events = await records_uc.audit_trail(ports, who, **where)
        return _page(
            request,
            "strategy.html",
            who,
            [],
            doc=doc,
            records=list(reversed(records)),
            chain=chain,
            broken=broken,
            events=list(reversed(events))[:50],
            version=f"{doc.chain_length}:{doc.lifecycle_stage}:{doc.freeze}",
        )

    @app.get("/ui/strategies/{uid}/{strategy_id}/version", include_in_schema=False)
    async def strategy_version(request: Request, uid: str, strategy_id: str) -> dict[str, str]:
        who, d = await _signed_in(request)
        doc = None
        if who is not None:
            with contextlib.suppress(UnknownStrategy):
                doc = await registry.show_strategy(
                    d.ports(), who, tenant_id=who.tenant_id, uid=uid, strategy_id=strategy_id
                )
        return {
            "version": f"{doc.chain_length}:{doc.lifecycle_stage}:{doc.freeze}" if doc else "none"
        }

    @app.get("/ui/operator", response_class=HTMLResponse, include_in_schema=False)
    async def operator_page(request: Request) -> Response:
        who, d = await _signed_in(request)
        if who is None:
            return RedirectResponse("/ui/login", status_code=303)
        strategies = await registry.list_strategies(d.ports(), who, tenant_id=who.tenant_id)
        records = await records_uc.list_records(
            d.ports(), who, tenant_id=who.tenant_id, uid=None, strategy_id=None
        )
        demotions = sorted(
            (r for r in records if r.decision in ("demote", "freeze")),
            key=lambda r: r.effective_at,
            reverse=True,
        )
        return _page(
            request,
            "operator.html",
            who,
            [],
            frozen=[s for s in strategies if s.freeze],
            strategies=strategies,
            demotions=demotions[:100],
            version=str(len(records)),
        )

    @app.get("/ui/operator/version", include_in_schema=False)
    async def operator_version(request: Request) -> dict[str, str]:
        who, d = await _signed_in(request)
        if who is None:
            return {"version": "none"}
        found = await records_uc.list_records(
            d.ports(), who, tenant_id=who.tenant_id, uid=None, strategy_id=None
        )
        return {"version": str(len(found))}


async def signed_in(request: Request) -> tuple[Principal | None, ApiDeps]:
    """The signed-in person (None: sign in first) and the app's dependencies."""
    return await _signed_in(request)


async def _signed_in(request: Request) -> tuple[Principal | None, ApiDeps]:
    d: ApiDeps = request.app.state.deps
    try:
        who = await principal(request, d)
    except GovernanceError:
        return None, d
    if who.kind != TokenKind.PERSONAL:
        return None, d
    return who, d


async def _status(d: ApiDeps, who: Principal, uid: str, strategy_id: str) -> PromotionStatus | None:
    try:
        return await requests.promotion_status(
            d.ports(), who, tenant_id=who.tenant_id, uid=uid, strategy_id=strategy_id
        )
    except (GovernanceError, RPCError):
        return None  # no request in flight, or an unknown strategy: the page says so


def _version(s: PromotionStatus) -> str:
    hash_ = s.report.metrics_hash if s.report else ""
    return f"{s.request_id}:{s.phase}:{len(s.approvals)}:{hash_}"


async def _act(call: Any, uid: str, strategy_id: str) -> Response:
    try:
        await call()
    except GovernanceError as exc:
        return _back(uid, strategy_id, exc.message)
    return _back(uid, strategy_id)


def _back(uid: str, strategy_id: str, error: str | None = None) -> Response:
    """Back to the request's page, showing why the action was refused, if it was."""
    target = f"/ui/requests/{uid}/{strategy_id}"
    if error:
        target += f"?error={quote(error)}"
    return RedirectResponse(target, status_code=303)


def page(
    request: Request,
    template: str,
    who: Principal,
    roles: list[Role],
    status_code: int = 200,
    **ctx: Any,
) -> Response:
    """A page of this UI (its base template, the signed-in person)."""
    return _page(request, template, who, roles, status_code, **ctx)


def _page(
    request: Request,
    template: str,
    who: Principal,
    roles: list[Role],
    status_code: int = 200,
    **ctx: Any,
) -> Response:
    return TEMPLATES.TemplateResponse(
        request, template, {"who": who, "roles": roles, **ctx}, status_code=status_code
    )
