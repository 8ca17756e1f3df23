"""Every document path the store uses, in one place.

The spec's paths are used as written, except two that Firestore cannot address as documents
(`tenants/{t}/governance/promotion_requests/{id}` and `.../promotion_records/{id}` have an odd
number of segments, which names a collection). Those are mapped to the nearest valid path by
adding one collection level under the spec's document:

    tenants/{t}/governance/promotion_requests/requests/{request_id}
    tenants/{t}/governance/promotion_records/records/{record_id}

Policy versions keep their history under the policy document:
    tenants/{t}/governance/promotion_policy/versions/{policy_version}
"""

from __future__ import annotations

import hashlib


def policy(tenant_id: str) -> str:
    return f"tenants/{tenant_id}/governance/promotion_policy"


def policy_versions(tenant_id: str) -> str:
    return f"{policy(tenant_id)}/versions"


def policy_version(tenant_id: str, version: str) -> str:
    return f"{policy_versions(tenant_id)}/{version}"


def policy_chain_slot(tenant_id: str, position: int) -> str:
    """Firestore only: the create-only document that settles races for one position in the
    tenant's chain of policy versions (SQLite: the table's unique position)."""
    return f"{policy(tenant_id)}/chain/{position:010d}"


def policy_proposals(tenant_id: str) -> str:
    return f"tenants/{tenant_id}/policyProposals"


def policy_proposal(tenant_id: str, proposal_id: str) -> str:
    return f"{policy_proposals(tenant_id)}/{proposal_id}"


def policy_approvals(tenant_id: str, proposal_id: str) -> str:
    return f"{policy_proposal(tenant_id, proposal_id)}/approvals"


def policy_approval(tenant_id: str, proposal_id: str, user: str) -> str:
    """One approver's create-only approval, keyed by a hash of who approved (any subject an
    identity provider issues is a valid document id that way)."""
    key = hashlib.sha256(user.encode()).hexdigest()[:32]
    return f"{policy_approvals(tenant_id, proposal_id)}/{key}"


def strategies(tenant_id: str, uid: str) -> str:
    return f"tenants/{tenant_id}/users/{uid}/strategies"


def strategy(tenant_id: str, uid: str, strategy_id: str) -> str:
    return f"{strategies(tenant_id, uid)}/{strategy_id}"


def strategy_index(tenant_id: str) -> str:
    """Firestore only: the tenant's list of strategies (the emulator has no collection-group
    queries, and strategies live under each user)."""
    return f"tenants/{tenant_id}/governance/strategy_index/entries"


def chain_slot(tenant_id: str, uid: str, strategy_id: str, sequence: int) -> str:
    """The create-only document that settles races for one position in a strategy's chain."""
    return f"{strategy(tenant_id, uid, strategy_id)}/chain/{sequence:010d}"


def risk_events(tenant_id: str, uid: str, strategy_id: str) -> str:
    """The strategy's risk history (event ids are unique per strategy, not per tenant)."""
    return f"{strategy(tenant_id, uid, strategy_id)}/risk_events"


def risk_event(tenant_id: str, uid: str, strategy_id: str, event_id: str) -> str:
    return f"{risk_events(tenant_id, uid, strategy_id)}/{event_id}"


def requests(tenant_id: str) -> str:
    return f"tenants/{tenant_id}/governance/promotion_requests/requests"


def request(tenant_id: str, request_id: str) -> str:
    return f"{requests(tenant_id)}/{request_id}"


def records(tenant_id: str) -> str:
    return f"tenants/{tenant_id}/governance/promotion_records/records"


def record(tenant_id: str, record_id: str) -> str:
    return f"{records(tenant_id)}/{record_id}"


def audit_events(tenant_id: str) -> str:
    return f"tenants/{tenant_id}/audit_events"


def audit_event(tenant_id: str, event_id: str) -> str:
    return f"{audit_events(tenant_id)}/{event_id}"


def audit_head(tenant_id: str) -> str:
    """The head of the tenant's audit hash chain (governance/audit_chain.py)."""
    return f"tenants/{tenant_id}/auditChainHead/current"


def audit_link(tenant_id: str, sequence: int) -> str:
    """Firestore only: the create-only document that settles races for one audit position."""
    return f"{audit_head(tenant_id)}/links/{sequence:012d}"


def checkpoints(tenant_id: str) -> str:
    return f"tenants/{tenant_id}/governance/checkpoints/items"


def checkpoint(tenant_id: str, sequence: int) -> str:
    """Keyed by the checkpoint's sequence, so two racing checkpoints cannot both take one."""
    return f"{checkpoints(tenant_id)}/{sequence:010d}"


def approvers(tenant_id: str) -> str:
    return f"tenants/{tenant_id}/approvers"


def approver(tenant_id: str, user: str) -> str:
    return f"{approvers(tenant_id)}/{user}"


def evaluation_reports(tenant_id: str) -> str:
    return f"tenants/{tenant_id}/governance/evaluation_reports/reports"


def evaluation_report(tenant_id: str, report_id: str) -> str:
    return f"{evaluation_reports(tenant_id)}/{report_id}"


def confirmation_token(tenant_id: str, token_hash: str) -> str:
    return f"tenants/{tenant_id}/governance/live_confirmations/tokens/{token_hash}"


def confirmation_redemption(tenant_id: str, token_hash: str) -> str:
    """Firestore only: the create-only marker that makes a token single-use under races."""
    return f"{confirmation_token(tenant_id, token_hash)}/redemptions/once"


def api_token(token_hash: str) -> str:
    """Tokens are looked up by hash before the tenant is known, so they sit at the root."""
    return f"api_tokens/{token_hash}"


def paper_orders(tenant_id: str) -> str:
    """The platform's paper orders (evidence for PAPER -> LIVE; read, never written)."""
    return f"tenants/{tenant_id}/paper_orders"


def paper_order(tenant_id: str, order_id: str) -> str:
    return f"{paper_orders(tenant_id)}/{order_id}"


def shadow_trades(uid: str) -> str:
    """The platform's shadow trades, per user (evidence for SHADOW -> PAPER; read only)."""
    return f"users/{uid}/shadowTradeHistory"


SYSTEM_STATUS = "systemStatus/config"


def tenant_halt(tenant_id: str) -> str:
    """The tenant's halt document: the one document the gate reads for a tenant-wide halt."""
    return f"tenants/{tenant_id}/fleet/halt"


def halt_history(tenant_id: str) -> str:
    """Every halt of the tenant as it was started (create-only)."""
    return f"{tenant_halt(tenant_id)}/history"


def halt_entry(tenant_id: str, halt_id: str) -> str:
    return f"{halt_history(tenant_id)}/{halt_id}"


def halt_slot(tenant_id: str, sequence: int) -> str:
    """Firestore only: the create-only document that settles two halts racing to start."""
    return f"{tenant_halt(tenant_id)}/slots/{sequence:08d}"


def resume_approvals(tenant_id: str, halt_id: str) -> str:
    return f"{halt_entry(tenant_id, halt_id)}/approvals"


def resume_approval(tenant_id: str, halt_id: str, position: int) -> str:
    """One approval of a resume, create-only at its position (two racing approvers cannot
    both take one)."""
    return f"{resume_approvals(tenant_id, halt_id)}/{position:03d}"
