"""What every route needs: the store, the Temporal client, and the caller's identity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import Depends, Request
from temporalio.client import Client

from api.oidc import OidcVerifier, looks_like_jwt
from app.evaluations import Evaluations
from app.ports import Ports
from governance.identity import Principal, Unauthenticated, hash_token, principal_for
from store.port import GovernanceStore


@dataclass
class ApiDeps:
    store: GovernanceStore
    client: Client | None
    task_queue: str
    oidc: OidcVerifier | None = None
    # Signs approvals for the people the API authenticated (app.signing); without it no
    # approval can be given through this API.
    signer: Ed25519PrivateKey | None = None
    # The Temporal Web UI the pages link workflows to (STRATGATE_TEMPORAL_UI_URL, or the
    # embedded stack's); None: no link.
    temporal_ui_url: str | None = None
    # Reads evidence for the use cases that recompute a report (explain, what-if).
    evaluations: Evaluations | None = None

    def ports(self) -> Ports:
        return Ports(
            store=self.store,
            client=self.client,
            task_queue=self.task_queue,
            signer=self.signer,
            evaluations=self.evaluations,
        )


def deps(request: Request) -> ApiDeps:
    found: ApiDeps = request.app.state.deps
    return found


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.cookies.get("stratgate_token")


async def principal(request: Request, d: Annotated[ApiDeps, Depends(deps)]) -> Principal:
    token = bearer(request)
    if not token:
        raise Unauthenticated("missing bearer token", field="authorization")
    who = await principal_of_token(d, token)
    request.state.principal = who
    return who


async def principal_of_token(d: ApiDeps, token: str) -> Principal:
    """Who a token names; Unauthenticated when it is unknown, expired or revoked."""
    if d.oidc is not None and looks_like_jwt(token):
        return d.oidc.principal(token)
    stored = await d.store.get_api_token(hash_token(token))
    return principal_for(stored, datetime.now(UTC))


Deps = Annotated[ApiDeps, Depends(deps)]
Caller = Annotated[Principal, Depends(principal)]


def temporal(d: ApiDeps) -> Client:
    if d.client is None:
        raise RuntimeError("the API was started without a Temporal connection")
    return d.client
