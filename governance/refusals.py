"""The vocabulary of refusals: every `code` a caller can receive, in one enum.

Each entry point maps these to its own form once (the HTTP status table in `api/errors.py`, the
CLI's exit codes); `tests/test_refusal_codes.py` fails when code uses a string not listed here.
"""

from __future__ import annotations

from enum import StrEnum


class RefusalCode(StrEnum):
    # Who is asking
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    ASSERTION_REFUSED = "assertion_refused"
    # What they ask about
    NOT_FOUND = "not_found"
    UNKNOWN_STRATEGY = "unknown_strategy"
    INVALID_REQUEST = "invalid_request"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    INVALID_POLICY = "invalid_policy"
    MISSING_POLICY = "missing_policy"
    INVALID_TRANSITION = "invalid_transition"
    EVIDENCE_SCHEMA = "evidence_schema"
    EVIDENCE_DOCUMENT = "evidence_document"  # a platform document the evidence source refused
    # The rules of approval
    APPROVAL_REFUSED = "approval_refused"
    REPORT_CHANGED = "report_changed"
    CONFIRMATION_TOKEN_REQUIRED = "confirmation_token_required"
    CONFIRMATION_TOKEN_REFUSED = "confirmation_token_refused"
    CANCEL_REFUSED = "cancel_refused"
    # The state moved
    WRONG_PHASE = "wrong_phase"
    REQUEST_ENDED = "request_ended"
    REQUEST_IN_FLIGHT = "request_in_flight"
    PRECONDITION_FAILED = "precondition_failed"
    RECORD_CONFLICT = "record_conflict"
    # Stored state that can no longer be trusted, a service that is not there
    RECORD_CORRUPT = "record_corrupt"
    MIGRATION_FAILED = "migration_failed"
    UNAVAILABLE = "unavailable"
    GOVERNANCE_ERROR = "governance_error"
    UNKNOWN_TENANT = "unknown_tenant"
    # Governed policy changes (governance/policy_change.py)
    POLICY_SELF_APPROVAL = "policy_self_approval"
    POLICY_ROLE_REQUIRED = "policy_role_required"
    POLICY_DUPLICATE_APPROVAL = "policy_duplicate_approval"
    POLICY_PROPOSAL_CLOSED = "policy_proposal_closed"
    POLICY_VERSION_EXISTS = "policy_version_exists"
    POLICY_PROPOSAL_STALE = "policy_proposal_stale"
    POLICY_APPROVAL_REQUIRED = "policy_approval_required"
    # Tenant and platform halts (governance/fleet_halt.py)
    TENANT_HALTED = "tenant_halted"
    ALREADY_HALTED = "already_halted"
    NOT_HALTED = "not_halted"
    RESUME_REFUSED = "resume_refused"
