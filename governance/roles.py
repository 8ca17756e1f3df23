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
    # A designation, not an approval slot: the person senior management designated to sign
    # off deployments (RTS 6 Art. 5). Where the policy requires one, at least one approver of
    # the transition must hold it in the directory.
    DESIGNATED_PERSON = "designated_person"
    # Approves changes of the tenant's promotion policy (never a promotion).
    POLICY_APPROVER = "policy_approver"
