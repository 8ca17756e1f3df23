"""The CLI through the HTTP front door: `--api URL` (or STRATGATE_API_URL) with the bearer token
in STRATGATE_TOKEN, so people act through the same identity checks as the web UI."""

from __future__ import annotations

import os
from typing import Any

import httpx

from governance.errors import GovernanceError


class ApiRefused(GovernanceError):
    pass


def call(
    base: str,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    token: str | None = None,
) -> Any:
    token = token or os.environ.get("STRATGATE_TOKEN")
    if not token:
        raise ApiRefused("set STRATGATE_TOKEN to your personal token to use --api", field="token")
    try:
        response = httpx.request(
            method,
            base.rstrip("/") + path,
            json=body,
            timeout=30,
            headers={"authorization": f"Bearer {token}"},
        )
    except httpx.HTTPError as exc:
        raise ApiRefused(f"cannot reach {base}: {exc}", field="api", code="unavailable") from None
    if response.status_code >= 400:
        try:
            problem = response.json()
        except ValueError:
            problem = {"message": response.text, "code": "http_error"}
        raise ApiRefused(
            str(problem.get("message")),
            field=problem.get("field"),
            code=str(problem.get("code") or response.status_code),
        )
    return response.json()
