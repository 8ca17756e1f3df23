"""firestore.rules read as text: the shape that keeps history append-only and tenants apart.

The Node emulator does not evaluate rules; test_firestore_rules_official.py runs them for real on
the official emulator when one is available.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

RULES = (Path(__file__).resolve().parents[2] / "firestore.rules").read_text()

APPEND_ONLY = [
    "/tenants/{tenantId}/governance/promotion_records/records/{recordId}",
    "/tenants/{tenantId}/users/{uid}/strategies/{strategyId}/chain/{slot}",
    "/tenants/{tenantId}/users/{uid}/strategies/{strategyId}/risk_events/{eventId}",
    "/tenants/{tenantId}/audit_events/{eventId}",
    "/tenants/{tenantId}/governance/promotion_policy/versions/{version}",
    "/tenants/{tenantId}/governance/evaluation_reports/reports/{metricsHash}",
    "/tenants/{tenantId}/auditChainHead/current/links/{sequence}",
    "/tenants/{tenantId}/governance/checkpoints/items/{sequence}",
    "/tenants/{tenantId}/governance/promotion_policy/chain/{slot}",
    "/tenants/{tenantId}/policyProposals/{proposalId}/approvals/{approverKey}",
]
TENANT_READABLE = [
    "/tenants/{tenantId}/users/{uid}/strategies/{strategyId}",
    "/tenants/{tenantId}/governance/promotion_requests/requests/{requestId}",
    "/tenants/{tenantId}/policyProposals/{proposalId}",
]


def blocks() -> dict[str, str]:
    """Each `match PATH { ... }` block's body inside `/databases/{database}/documents`, by path
    (those blocks sit at one indentation level and do not nest)."""
    found = {}
    for m in re.finditer(r"^    match (\S+) \{\n(.*?)^    \}", RULES, re.M | re.S):
        found[m.group(1)] = m.group(2)
    return found


def rule(body: str, verbs: str) -> str:
    m = re.search(rf"allow {re.escape(verbs)}: if ([^;]+);", body)
    assert m, f"no `allow {verbs}` in {body!r}"
    return m.group(1).strip()


def test_rules_version_2() -> None:
    assert RULES.lstrip().startswith("rules_version = '2';")


@pytest.mark.parametrize("path", APPEND_ONLY)
def test_history_is_create_only_for_the_service(path: str) -> None:
    body = blocks()[path]
    assert "allow update, delete: if false;" in body
    assert rule(body, "create") == "service()"
    assert "allow write" not in body


def test_the_service_is_the_custom_claim() -> None:
    assert "request.auth.token.stratgate_service == true" in RULES


@pytest.mark.parametrize("path", TENANT_READABLE)
def test_tenant_people_read_strategies_and_requests_only_the_service_writes(path: str) -> None:
    body = blocks()[path]
    assert rule(body, "read") == "reader(tenantId)"
    assert rule(body, "write") == "service()"
    assert "request.auth.token.tenant_id == tenantId" in RULES  # tenants are isolated


def test_no_wildcard_grants_anything_over_history() -> None:
    """Firestore ORs every matching rule: a recursive wildcard that allows writes anywhere would
    also allow updating and deleting records, so the only recursive match denies everything."""
    recursive = {path: body for path, body in blocks().items() if "=**}" in path}
    assert recursive == {"/{document=**}": recursive["/{document=**}"]}
    assert rule(recursive["/{document=**}"], "read, write") == "false"
