"""Signed approval assertions: Temporal access alone cannot forge an approval.

The API, having authenticated a person, signs what they approve: (request id, role, person,
report hash, time), with Ed25519. The workflow's directory check verifies the signature with the
published public keys before the approval counts, so an approval sent straight to Temporal
without a valid assertion from the API is refused naming why. Keys rotate by publishing the new
public key beside the old (both verify), then signing with the new one (`key_id` says which).
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field

from governance.errors import GovernanceError
from governance.hashing import canonical_json
from governance.records import UtcDatetime
from governance.roles import Role

# An assertion is for one approval, sent at once; a stale one is not replayed later.
MAX_AGE = timedelta(minutes=10)
MAX_SKEW = timedelta(minutes=1)


class AssertionRefused(GovernanceError):
    code = "assertion_refused"


class ApprovalClaim(BaseModel):
    """What the signature covers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    request_id: str
    role: Role
    person: str
    metrics_hash: str | None
    issued_at: UtcDatetime
    tenant_id: str


class ApprovalAssertion(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    claim: ApprovalClaim
    key_id: str = Field(max_length=64)
    signature: str = Field(max_length=128)  # base64 of the 64-byte Ed25519 signature


def key_id(public: Ed25519PublicKey) -> str:
    """A short, stable name for a public key (the first 16 hex digits of its raw bytes' hash)."""
    import hashlib

    return hashlib.sha256(raw_public(public)).hexdigest()[:16]


def raw_public(public: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def sign(private: Ed25519PrivateKey, claim: ApprovalClaim) -> ApprovalAssertion:
    signature = private.sign(canonical_json(claim.model_dump(mode="json")))
    return ApprovalAssertion(
        claim=claim,
        key_id=key_id(private.public_key()),
        signature=base64.b64encode(signature).decode(),
    )


def verify(
    assertion: ApprovalAssertion | None,
    public_keys: list[Ed25519PublicKey],
    *,
    expected: ApprovalClaim,
    now: datetime,
) -> None:
    """Refuse unless `assertion` is a valid signature by a published key over exactly the
    approval being counted (its `issued_at` is checked for age, not equality)."""
    if assertion is None:
        raise AssertionRefused(
            "an approval needs an identity assertion signed by the stratgate API: approve "
            "through the API or the CLI with your token",
            field="assertion",
        )
    key = next((k for k in public_keys if key_id(k) == assertion.key_id), None)
    if key is None:
        raise AssertionRefused(
            f"the assertion is signed with key {assertion.key_id}, which is not published",
            field="assertion",
        )
    try:
        key.verify(
            base64.b64decode(assertion.signature, validate=True),
            canonical_json(assertion.claim.model_dump(mode="json")),
        )
    except (InvalidSignature, ValueError):
        raise AssertionRefused(
            "the assertion's signature is not valid", field="assertion"
        ) from None
    claim = assertion.claim
    mine = claim.model_dump(exclude={"issued_at"})
    if mine != expected.model_dump(exclude={"issued_at"}):
        differing = [k for k, v in mine.items() if expected.model_dump().get(k) != v]
        raise AssertionRefused(
            f"the assertion is for another approval ({', '.join(differing)} differ)",
            field="assertion",
        )
    if not now - MAX_AGE <= claim.issued_at <= now + MAX_SKEW:
        raise AssertionRefused(
            f"the assertion was issued at {claim.issued_at.isoformat()}, outside "
            f"{int(MAX_AGE.total_seconds() // 60)} minutes of now",
            field="assertion",
        )
