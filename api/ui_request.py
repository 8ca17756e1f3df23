"""The request page and its actions (approve, reject), with a page for every way they end:
a confirmation, a stale report, an ended request, an unknown strategy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from temporalio.service import RPCError

from api.charts import chart_library_installed, report_charts
from api.deps import ApiDeps
from api.ui_common import page, problem, signable, signed_in, to_login
from app import requests
from app.request_view import compare_reports, current_status, request_view
from governance.bounds import COMMENT_MAX, check_text
from governance.errors import GovernanceError, NotFound, UnknownStrategy
from governance.identity import Principal
from governance.promotion import Phase
from governance.refusals import RefusalCode
from governance.roles import Role
from workflows.promotion_state import PromotionStatus

ENDED_CODES = {"request_ended", "wrong_phase"}
DONE = {"approve": "approved", "reject": "rejected"}


def install(app: FastAPI) -> None:
    @app.get(
        "/ui/requests/{uid}/{strategy_id}", response_class=HTMLResponse, include_in_schema=False
    )
    async def request_page(
        request: Request, uid: str, strategy_id: str, error: str = "", done: str = ""
    ) -> Response:
        who, d = await signed_in(request)
        if who is None:
            return to_login(request)
        where = {"tenant_id": who.tenant_id, "uid": uid, "strategy_id": strategy_id}
        try:
            view = await request_view(d.ports(), who, **where)
        except RPCError:
            return _unavailable(request, who)
        except GovernanceError as exc:
            if exc.code == RefusalCode.UNAVAILABLE:
                return _unavailable(request, who)
            return _refused_page(request, who, uid, strategy_id, exc)
        s = view.status
        charts = report_charts(view.report)
        return page(
            request,
            "request.html",
            who,
            view.roles,
            v=view,
            s=s,
            report=view.report,
            error=error,
            done=_confirmation(done),
            charts=charts,
            chart_data=[c.model_dump() for c in charts],
            chart_library=chart_library_installed(),
            can_sign=[r for r in signable(s.missing_roles) if r in view.roles],
            can_reject=[
                r
                for r in dict.fromkeys(signable(s.missing_roles) + [a.role for a in s.approvals])
                if r in view.roles
            ],
            version=_version(s),
            hash=s.report.metrics_hash if s.report else "",
        )

    @app.get("/ui/requests/{uid}/{strategy_id}/version", include_in_schema=False)
    async def request_version(request: Request, uid: str, strategy_id: str) -> dict[str, str]:
        """What the open page polls: it reloads when the version moves (and nobody is typing),
        and only notes a new report hash."""
        who, d = await signed_in(request)
        if who is None:
            return {"version": "signed-out", "hash": ""}
        status = await status_or_none(d, who, uid, strategy_id)
        if status is None:
            return {"version": "none", "hash": ""}
        return {
            "version": _version(status),
            "phase": status.phase,
            "hash": status.report.metrics_hash if status.report else "",
        }

    @app.post("/ui/requests/{uid}/{strategy_id}/approve", include_in_schema=False)
    async def approve(
        request: Request,
        uid: str,
        strategy_id: str,
        role: Annotated[str, Form()] = "",
        metrics_hash: Annotated[str, Form()] = "",
        request_id: Annotated[str, Form()] = "",
        comment: Annotated[str, Form()] = "",
        confirmation_token: Annotated[str, Form()] = "",
    ) -> Response:
        who, d = await signed_in(request)
        if who is None:
            return to_login(request)
        form = _Form(uid, strategy_id, "approve", role, metrics_hash, request_id, comment)
        if (bad := form.problem()) is not None:
            return _back(uid, strategy_id, error=bad)
        return await _act(
            request,
            who,
            d,
            form,
            lambda: requests.approve(
                d.ports(),
                who,
                tenant_id=who.tenant_id,
                uid=uid,
                strategy_id=strategy_id,
                role=Role(role),
                metrics_hash=metrics_hash or None,
                comment=comment,
                confirmation_token=confirmation_token or None,
            ),
        )

    @app.post("/ui/requests/{uid}/{strategy_id}/reject", include_in_schema=False)
    async def reject(
        request: Request,
        uid: str,
        strategy_id: str,
        role: Annotated[str, Form()] = "",
        request_id: Annotated[str, Form()] = "",
        metrics_hash: Annotated[str, Form()] = "",
        comment: Annotated[str, Form()] = "",
    ) -> Response:
        who, d = await signed_in(request)
        if who is None:
            return to_login(request)
        form = _Form(uid, strategy_id, "reject", role, metrics_hash, request_id, comment)
        if (bad := form.problem()) is not None:
            return _back(uid, strategy_id, error=bad)
        return await _act(
            request,
            who,
            d,
            form,
            lambda: requests.reject(
                d.ports(),
                who,
                tenant_id=who.tenant_id,
                uid=uid,
                strategy_id=strategy_id,
                role=Role(role),
                comment=comment,
            ),
        )


@dataclass(frozen=True)
class _Form:
    """An approve or reject form as posted: what it acted on (request, report) and the text."""

    uid: str
    strategy_id: str
    action: str
    role: str
    metrics_hash: str
    request_id: str
    comment: str

    def problem(self) -> str | None:
        if self.role not in Role._value2member_map_:
            return f"role: {self.role or 'none'} is not a role"
        too_long = check_text(self.comment, "comment", COMMENT_MAX)
        return str(too_long) if too_long else None


async def _act(request: Request, who: Principal, d: ApiDeps, form: _Form, call: Any) -> Response:
    ports, where = d.ports(), {"tenant_id": who.tenant_id, "uid": form.uid}
    try:
        current = await current_status(ports, who, **where, strategy_id=form.strategy_id)
    except RPCError:
        return _unavailable(request, who)
    except GovernanceError as exc:
        if exc.code == RefusalCode.UNAVAILABLE:
            return _unavailable(request, who)
        return _refused_page(request, who, form.uid, form.strategy_id, exc)
    if form.request_id and form.request_id != current.request_id:
        return await _stale(request, who, d, form, current, "a new request replaced it")
    if current.phase.terminal:
        return _ended(request, who, current, form)
    try:
        status: PromotionStatus = await call()
    except GovernanceError as exc:
        if exc.code == "report_changed":
            return await _stale(request, who, d, form, current, exc.message)
        if exc.code in ENDED_CODES:
            try:
                now = await current_status(ports, who, **where, strategy_id=form.strategy_id)
            except (GovernanceError, RPCError):
                now = current
            if now.phase.terminal:
                return _ended(request, who, now, form)
        return _back(form.uid, form.strategy_id, error=exc.message)
    except RPCError:
        return _unavailable(request, who)
    done = f"{DONE[form.action]}:{form.role}:{status.phase}"
    return _back(form.uid, form.strategy_id, done=done)


async def _stale(
    request: Request,
    who: Principal,
    d: ApiDeps,
    form: _Form,
    current: PromotionStatus,
    why: str,
) -> Response:
    """Nothing was recorded: the page read an older report (or request) than the current one.
    Says what changed, and keeps what the person wrote."""
    diff = None
    if form.metrics_hash and current.report:
        diff = await compare_reports(
            d.ports(),
            who,
            tenant_id=who.tenant_id,
            before_hash=form.metrics_hash,
            after_hash=current.report.metrics_hash,
        )
    return page(
        request,
        "stale.html",
        who,
        [],
        status_code=409,
        s=current,
        form=form,
        why=why,
        diff=diff,
    )


def _ended(request: Request, who: Principal, s: PromotionStatus, form: _Form) -> Response:
    return page(request, "ended.html", who, [], status_code=409, s=s, form=form)


def _refused_page(
    request: Request, who: Principal, uid: str, strategy_id: str, exc: GovernanceError
) -> Response:
    if isinstance(exc, UnknownStrategy):
        return problem(
            request,
            who,
            "Unknown strategy",
            f"There is no strategy {uid}/{strategy_id} in tenant {who.tenant_id}: check the "
            "name (uid/strategy) against the strategy list.",
            404,
            strategies="/ui/strategies",
        )
    if isinstance(exc, NotFound):
        return problem(
            request,
            who,
            "No request yet",
            exc.message + ".",
            404,
            strategy=f"/ui/strategies/{quote(uid)}/{quote(strategy_id)}",
        )
    return problem(request, who, "Refused", exc.message, 403 if exc.code == "forbidden" else 400)


def _unavailable(request: Request, who: Principal) -> Response:
    return problem(
        request,
        who,
        "Workflow service unavailable",
        "Temporal did not answer (is the worker running?); nothing was changed. Try again.",
        503,
    )


async def status_or_none(
    d: ApiDeps, who: Principal, uid: str, strategy_id: str
) -> PromotionStatus | None:
    try:
        return await current_status(
            d.ports(), who, tenant_id=who.tenant_id, uid=uid, strategy_id=strategy_id
        )
    except (GovernanceError, RPCError):
        return None


def _confirmation(done: str) -> list[str] | None:
    """The confirmation a redirect after an action carries (verb, role, phase), if it is one:
    a link cannot make the page confirm something else."""
    parts = done.split(":")
    if len(parts) != 3:
        return None
    verb, role, phase = parts
    if verb not in DONE.values() or role not in Role._value2member_map_:
        return None
    return parts if phase in Phase._value2member_map_ else None


def _version(s: PromotionStatus) -> str:
    """What changes the page's content for a person: not the report hash, which moves with
    every re-evaluation of a waiting window."""
    roles = ",".join(f"{a.role}={a.approved_by}" for a in s.approvals)
    return f"{s.request_id}:{s.phase}:{roles}:{len(s.stale_approvals)}"


def _back(
    uid: str, strategy_id: str, error: str | None = None, done: str | None = None
) -> Response:
    target = f"/ui/requests/{quote(uid)}/{quote(strategy_id)}"
    if error:
        target += f"?error={quote(error)}"
    elif done:
        target += f"?done={quote(done)}"
    return RedirectResponse(target, status_code=303)
