"""Approver roles of the spec's human checkpoints."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    STRATEGY_REVIEWER = "strategy_reviewer"
    RISK_APPROVER = "risk_approver"
    OPS_APPROVER = "ops_approver"
    FINAL_AUTHORIZER = "final_authorizer"
    # May cancel any request of the tenant; never counts as an approval.
    ADMIN = "admin"
    # Approves changes of the tenant's promotion policy (never a promotion).
    POLICY_APPROVER = "policy_approver"
