"""API tokens on the record: issuing one and revoking one are audit events of its tenant.

A token is who a caller is to the API, so who issued or revoked which token, for whom and until
when, belongs in the same trail as what the token was then used for. The event names the token
by the first 12 hex digits of its SHA-256 (the stored key is the whole hash; the token itself is
never stored or logged).
"""

from __future__ import annotations

from datetime import datetime

from governance.identity import ApiToken
from governance.records import AuditEvent

ISSUED, REVOKED = "identity.token_issued", "identity.token_revoked"


def token_ref(token: ApiToken) -> str:
    return token.token_hash[:12]


def token_issued(token: ApiToken, *, by: str, event_id: str) -> AuditEvent:
    return AuditEvent(
        event_id=event_id,
        event_type=ISSUED,
        ts=token.issued_at,
        tenant_id=token.tenant_id,
        details={
            "token": token_ref(token),
            "kind": token.kind.value,
            "subject": token.subject,
            "expires_at": token.expires_at.isoformat(),
            "by": by,
        },
    )


def token_revoked(token: ApiToken, *, by: str, at: datetime, event_id: str) -> AuditEvent:
    return AuditEvent(
        event_id=event_id,
        event_type=REVOKED,
        ts=at,
        tenant_id=token.tenant_id,
        details={
            "token": token_ref(token),
            "kind": token.kind.value,
            "subject": token.subject,
            "by": by,
        },
    )
