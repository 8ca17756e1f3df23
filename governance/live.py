"""LIVE controls: single-use, time-bounded confirmation tokens and time-bounded enablement."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from governance.errors import GovernanceError
from governance.identity import hash_token
from governance.records import Identifier, UtcDatetime


class ConfirmationToken(BaseModel):
    """Stored form of a token: its hash, whom it was issued to, for which request, until when."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    token_hash: str
    tenant_id: Identifier
    request_id: Identifier
    user: Identifier
    issued_at: UtcDatetime
    expires_at: UtcDatetime
    redeemed_at: UtcDatetime | None = None


class TokenRefused(GovernanceError):
    code = "confirmation_token_refused"


def issue(
    *, token: str, tenant_id: str, request_id: str, user: str, now: datetime, ttl_seconds: int
) -> ConfirmationToken:
    return ConfirmationToken(
        token_hash=hash_token(token),
        tenant_id=tenant_id,
        request_id=request_id,
        user=user,
        issued_at=now,
        expires_at=now + timedelta(seconds=ttl_seconds),
    )


def redeem(
    stored: ConfirmationToken | None, *, request_id: str, user: str, now: datetime
) -> ConfirmationToken:
    """The token marked used at `now`; a retry of the same redemption returns it unchanged."""
    if (
        stored is not None
        and stored.redeemed_at == now
        and stored.request_id == request_id
        and stored.user == user
    ):
        return stored
    _check_redeemable(stored, request_id=request_id, user=user, now=now)
    assert stored is not None
    return stored.model_copy(update={"redeemed_at": now})


def _check_redeemable(
    stored: ConfirmationToken | None, *, request_id: str, user: str, now: datetime
) -> None:
    if stored is None:
        raise TokenRefused("unknown confirmation token", field="confirmation_token")
    if stored.redeemed_at is not None:
        raise TokenRefused("confirmation token already used", field="confirmation_token")
    if stored.request_id != request_id:
        raise TokenRefused("confirmation token is for another request", field="confirmation_token")
    if stored.user != user:
        raise TokenRefused(
            f"confirmation token was issued to {stored.user}, not {user}",
            field="confirmation_token",
        )
    if now >= stored.expires_at:
        raise TokenRefused("confirmation token expired", field="confirmation_token")


def enablement_until(effective_at: datetime, enablement_seconds: int) -> datetime:
    return effective_at + timedelta(seconds=enablement_seconds)
