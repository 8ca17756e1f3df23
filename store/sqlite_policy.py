"""Policy versions (hash-chained) and governed policy changes in the embedded store.

Every write is one `BEGIN IMMEDIATE` transaction: a decision reads the proposal, its
approvals and the policy chain, lets governance plan it, and writes the plan, so two
approvers racing each other serialise on the database's write lock.
"""

from __future__ import annotations

import json
import sqlite3

from governance.errors import RecordConflict
from governance.policy import PromotionPolicy, load_stored_policy
from governance.policy_chain import chain_version, same_version
from governance.policy_change import (
    DecisionPlan,
    PolicyApproval,
    PolicyProposal,
    ProposalDecision,
    bootstrap_refused,
    plan_decision,
)
from governance.records import AuditEvent
from store import paths
from store.sqlite_tokens import SqliteTokens


class SqlitePolicy(SqliteTokens):
    """Policy versions (hash-chained) and governed proposals; audit events through the store's
    one audit writer, `SqliteAudit._insert_audit`."""

    # -- versions -------------------------------------------------------------------------
    async def get_policy(self, tenant_id: str) -> PromotionPolicy | None:
        data = await self._run(lambda c: self._get(c, paths.policy(tenant_id)))
        return load_stored_policy(data) if data else None

    @staticmethod
    def _versions(conn: sqlite3.Connection, tenant_id: str) -> list[PromotionPolicy]:
        rows = conn.execute(
            "SELECT data FROM policy_versions WHERE tenant_id = ? ORDER BY position",
            (tenant_id,),
        ).fetchall()
        return [load_stored_policy(json.loads(r[0])) for r in rows]

    def _append_version(
        self,
        conn: sqlite3.Connection,
        tenant_id: str,
        versions: list[PromotionPolicy],
        version: PromotionPolicy,
    ) -> None:
        """Insert `version` (already chained to the last of `versions`) and make it current."""
        data = version.model_dump(mode="json")
        conn.execute(
            "INSERT INTO policy_versions (path, tenant_id, position, data) VALUES (?, ?, ?, ?)",
            (
                paths.policy_version(tenant_id, version.policy_version),
                tenant_id,
                len(versions) + 1,
                json.dumps(data, sort_keys=True),
            ),
        )
        self._set(conn, paths.policy(tenant_id), data)

    async def put_policy(self, tenant_id: str, policy: PromotionPolicy) -> PromotionPolicy:
        def write(conn: sqlite3.Connection) -> PromotionPolicy:
            versions = self._versions(conn, tenant_id)
            stored = next((v for v in versions if v.policy_version == policy.policy_version), None)
            if stored is not None:
                if not same_version(stored, policy):
                    raise RecordConflict(
                        f"policy_version {policy.policy_version} already exists with other "
                        "content; publish a new version",
                        field="policy_version",
                    )
                self._set(conn, paths.policy(tenant_id), stored.model_dump(mode="json"))
                return stored
            version = chain_version(policy, versions[-1] if versions else None)
            self._append_version(conn, tenant_id, versions, version)
            return version

        return await self._run(write, write=True)

    async def list_policy_versions(self, tenant_id: str) -> list[PromotionPolicy]:
        return await self._run(lambda c: self._versions(c, tenant_id))

    async def bootstrap_policy(
        self, tenant_id: str, version: PromotionPolicy, event: AuditEvent
    ) -> PromotionPolicy:
        def write(conn: sqlite3.Connection) -> PromotionPolicy:
            versions = self._versions(conn, tenant_id)
            if versions or self._get(conn, paths.policy(tenant_id)) is not None:
                raise bootstrap_refused(tenant_id)
            first = chain_version(version, None)
            self._append_version(conn, tenant_id, versions, first)
            self._insert_audit(conn, event)
            return first

        return await self._run(write, write=True)

    # -- proposals ------------------------------------------------------------------------
    @staticmethod
    def _proposal(
        conn: sqlite3.Connection, tenant_id: str, proposal_id: str
    ) -> PolicyProposal | None:
        data = SqliteTokens._get(conn, paths.policy_proposal(tenant_id, proposal_id))
        if data is None:
            return None
        rows = conn.execute(
            "SELECT data FROM policy_approvals WHERE tenant_id = ? AND proposal_id = ? "
            "ORDER BY position",
            (tenant_id, proposal_id),
        ).fetchall()
        approvals = [PolicyApproval.model_validate_json(r[0]) for r in rows]
        return PolicyProposal.model_validate({**data, "approvals": approvals})

    async def create_policy_proposal(self, proposal: PolicyProposal, event: AuditEvent) -> None:
        path = paths.policy_proposal(proposal.tenant_id, proposal.proposal_id)

        def write(conn: sqlite3.Connection) -> None:
            if self._get(conn, path) is not None:
                raise RecordConflict(
                    f"a policy proposal {proposal.proposal_id} already exists",
                    field="proposal_id",
                )
            self._set(conn, path, proposal.model_dump(mode="json", exclude={"approvals"}))
            self._insert_audit(conn, event)

        await self._run(write, write=True)

    async def get_policy_proposal(self, tenant_id: str, proposal_id: str) -> PolicyProposal | None:
        return await self._run(lambda c: self._proposal(c, tenant_id, proposal_id))

    async def list_policy_proposals(self, tenant_id: str) -> list[PolicyProposal]:
        def read(conn: sqlite3.Connection) -> list[PolicyProposal]:
            docs = self._list(conn, paths.policy_proposals(tenant_id))
            found = [self._proposal(conn, tenant_id, d["proposal_id"]) for d in docs]
            return sorted((p for p in found if p), key=lambda p: p.proposed_at)

        return await self._run(read)

    async def decide_policy_proposal(self, decision: ProposalDecision) -> PolicyProposal:
        t = decision.tenant_id

        def write(conn: sqlite3.Connection) -> PolicyProposal:
            versions = self._versions(conn, t)
            current = self._get(conn, paths.policy(t))
            plan = plan_decision(
                decision,
                proposal=self._proposal(conn, t, decision.proposal_id),
                current=load_stored_policy(current) if current else None,
                last_version=versions[-1] if versions else None,
                published_versions={v.policy_version for v in versions},
            )
            self._apply(conn, t, versions, plan)
            return plan.proposal

        return await self._run(write, write=True)

    def _apply(
        self,
        conn: sqlite3.Connection,
        tenant_id: str,
        versions: list[PromotionPolicy],
        plan: DecisionPlan,
    ) -> None:
        proposal = plan.proposal
        if plan.approval is not None:
            conn.execute(
                "INSERT INTO policy_approvals (path, tenant_id, proposal_id, data) "
                "VALUES (?, ?, ?, ?)",
                (
                    paths.policy_approval(
                        tenant_id, proposal.proposal_id, plan.approval.approved_by
                    ),
                    tenant_id,
                    proposal.proposal_id,
                    plan.approval.model_dump_json(),
                ),
            )
        self._set(
            conn,
            paths.policy_proposal(tenant_id, proposal.proposal_id),
            proposal.model_dump(mode="json", exclude={"approvals"}),
        )
        if plan.publish is not None:
            self._append_version(conn, tenant_id, versions, plan.publish)
        for event in plan.audit_events:
            self._insert_audit(conn, event)
