"""Who a human CLI command acts as: a person's token, presented to the API.

The API verifies the token and signs what the person approves, so the CLI never names an
approver itself. The token is STRATGATE_TOKEN, or on the embedded demo stack the named demo
person's (`--as alice` reads `$STRATGATE_HOME/demo-tokens.json`). The API is `--api`,
STRATGATE_API_URL, or the running `stratgate up`'s (its address is in `stack.json`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from cli.embedded import read_stack
from governance.errors import GovernanceError
from settings import Settings

DEMO_TOKENS = "demo-tokens.json"


@dataclass(frozen=True)
class ApiSession:
    base_url: str
    token: str


def api_session(api: str | None, as_user: str | None) -> ApiSession:
    settings = Settings.from_env()
    base = api or os.environ.get("STRATGATE_API_URL")
    if not base:
        stack = read_stack(settings.home)
        base = stack.api_url if stack else None
    if not base:
        raise GovernanceError(
            f"no running stack found under {settings.home}, so no API to act through: start "
            "one with `stratgate up`, or pass --api URL",
            field="api",
            code="unavailable",
        )
    return ApiSession(base_url=base, token=_token(settings, as_user))


def _token(settings: Settings, as_user: str | None) -> str:
    if as_user is None:
        token = os.environ.get("STRATGATE_TOKEN")
        if not token:
            raise GovernanceError(
                "who is acting? set STRATGATE_TOKEN to your personal token (or, on the demo "
                "stack, --as a demo person)",
                field="token",
                code="unauthenticated",
            )
        return token
    path = settings.home / DEMO_TOKENS
    tokens: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    if as_user not in tokens:
        raise GovernanceError(
            f"--as {as_user}: no token for {as_user} here (demo tokens: "
            f"{', '.join(sorted(tokens)) or 'none'}); set STRATGATE_TOKEN to your own token",
            field="as",
            code="unauthenticated",
        )
    return tokens[as_user]
