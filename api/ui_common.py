"""What every UI page shares: templates, who is signed in, rendering, links out."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api import ui_format
from api.deps import ApiDeps, principal
from governance.bounds import COMMENT_MAX
from governance.errors import GovernanceError
from governance.identity import Principal, TokenKind
from governance.roles import Role

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
STATIC = Path(__file__).parent / "static"
TEMPLATES.env.globals["COMMENT_MAX"] = COMMENT_MAX
ui_format.install(TEMPLATES.env)


async def signed_in(request: Request) -> tuple[Principal | None, ApiDeps]:
    d: ApiDeps = request.app.state.deps
    try:
        who = await principal(request, d)
    except GovernanceError:
        return None, d
    if who.kind != TokenKind.PERSONAL:
        return None, d
    return who, d


def to_login(request: Request) -> Response:
    """Signed out, or the cookie's token no longer works: sign in again, saying which."""
    target = "/ui/login"
    if request.cookies.get("stratgate_token"):
        why = "your sign-in is no longer valid (the token expired or was revoked): sign in again"
        target += f"?error={quote(why)}"
    return RedirectResponse(target, status_code=303)


def page(
    request: Request,
    template: str,
    who: Principal | None,
    roles: list[Role],
    status_code: int = 200,
    **ctx: Any,
) -> Response:
    d: ApiDeps = request.app.state.deps
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {"who": who, "roles": roles, "temporal": lambda wid: temporal_link(d, wid), **ctx},
        status_code=status_code,
    )


def problem(
    request: Request,
    who: Principal | None,
    title: str,
    message: str,
    status_code: int,
    **links: str,
) -> Response:
    """An error as a page a person reads (never the API's JSON)."""
    return page(
        request,
        "problem.html",
        who,
        [],
        status_code=status_code,
        title=title,
        message=message,
        links=links,
    )


def temporal_link(d: ApiDeps, workflow_id: str) -> str | None:
    """The workflow's runs in the Temporal Web UI (its list filtered to this id)."""
    if not d.temporal_ui_url:
        return None
    namespace = d.client.namespace if d.client is not None else "default"
    query = quote(f'WorkflowId="{workflow_id}"', safe="")
    return f"{d.temporal_ui_url.rstrip('/')}/namespaces/{quote(namespace)}/workflows?query={query}"


def signable(missing: list[Role]) -> list[Role]:
    """Missing roles one can sign as: `designated_person` is a designation an approver holds,
    not a slot of its own."""
    return [r for r in missing if r != Role.DESIGNATED_PERSON]
