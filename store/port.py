"""The GovernanceStore port: the only way the rest of stratgate reaches stored state.

Split by concern; two adapters implement all of it (`sqlite.py`, the embedded default;
`firestore.py`, production) and pass one contract suite (`tests/store_contract/`). Records,
audit events and chain slots are create-only; `commit_stage_change` is the single atomic
operation behind every stage change: it applies governance's `plan_commit`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from governance.audit_chain import AuditHead
from governance.chain import ChainSlot
from governance.checkpoint import Checkpoint
from governance.fleet_changes import BatchCommit, StrategyPage
from governance.fleet_halt import ResumeApproval, ResumeAsk, ResumeStep, TenantHalt
from governance.identity import ApiToken
from governance.live import ConfirmationToken
from governance.policy import PromotionPolicy
from governance.policy_change import PolicyProposal, ProposalDecision
from governance.records import AuditEvent, PromotionRecord, PromotionRequest, StrategyDoc
from governance.report import EligibilityReport
from governance.risk_events import StoredRiskEvent
from governance.risk_queue import RiskEventRef
from governance.roles import Role
from governance.stage_change import StageChange


class PolicyStore(Protocol):
    """Tenant policy, versioned and hash-chained (governance/policy_chain.py): put adds a
    version, chained to the last one, and makes it current; it returns the version as stored.
    `put_policy` is the seeding and migration path: use cases publish through
    `PolicyChangeStore`."""

    async def get_policy(self, tenant_id: str) -> PromotionPolicy | None: ...
    async def put_policy(self, tenant_id: str, policy: PromotionPolicy) -> PromotionPolicy: ...
    async def list_policy_versions(self, tenant_id: str) -> list[PromotionPolicy]: ...


class PolicyChangeStore(Protocol):
    """Governed policy changes (governance/policy_change.py), at
    `tenants/{t}/policyProposals/{id}` with create-only approvals under it.

    `decide_policy_proposal` applies governance's `plan_decision` in one transaction: the
    approval, the proposal's new status and, once enough approvals are in, the new version,
    the current policy and the audit events land together or not at all. A refusal writes
    nothing. `bootstrap_policy` publishes a tenant's first version with its audit event, and
    refuses once the tenant has any version."""

    async def create_policy_proposal(self, proposal: PolicyProposal, event: AuditEvent) -> None: ...
    async def get_policy_proposal(
        self, tenant_id: str, proposal_id: str
    ) -> PolicyProposal | None: ...
    async def list_policy_proposals(self, tenant_id: str) -> list[PolicyProposal]: ...
    async def decide_policy_proposal(self, decision: ProposalDecision) -> PolicyProposal: ...
    async def bootstrap_policy(
        self, tenant_id: str, version: PromotionPolicy, event: AuditEvent
    ) -> PromotionPolicy: ...


class StrategyRecords(Protocol):
    """The strategy registry and its immutable records, and the one transaction that writes
    them. With `event`, a registration and its audit event land together or not at all.

    `register_strategies` registers a file of them (governance/onboarding.py), each with its
    `strategy.registered` event, linked into the tenant's audit chain in order: all or nothing
    on SQLite; on Firestore every key is checked before the first write, and a retry of the
    same file completes one that stopped half-way (docs/onboarding.md)."""

    async def register_strategy(
        self, doc: StrategyDoc, event: AuditEvent | None = None
    ) -> StrategyDoc: ...
    async def register_strategies(
        self, docs: list[StrategyDoc], events: list[AuditEvent]
    ) -> list[StrategyDoc]: ...
    async def get_strategy(
        self, tenant_id: str, uid: str, strategy_id: str
    ) -> StrategyDoc | None: ...
    async def list_strategies(
        self, tenant_id: str, uid: str | None = None
    ) -> list[StrategyDoc]: ...
    async def commit_stage_change(self, change: StageChange) -> PromotionRecord: ...
    async def get_record(self, tenant_id: str, record_id: str) -> PromotionRecord | None: ...
    async def list_records(
        self, tenant_id: str, uid: str | None = None, strategy_id: str | None = None
    ) -> list[PromotionRecord]: ...
    async def list_chain_slots(
        self, tenant_id: str, uid: str, strategy_id: str
    ) -> list[ChainSlot]: ...


class RequestStore(Protocol):
    """Promotion requests: mutable workflow state."""

    async def put_request(self, request: PromotionRequest) -> None: ...
    async def get_request(self, tenant_id: str, request_id: str) -> PromotionRequest | None: ...
    async def list_requests(
        self, tenant_id: str, uid: str | None = None, strategy_id: str | None = None
    ) -> list[PromotionRequest]: ...


class RiskHistory(Protocol):
    """Every risk event received, once per (strategy, event_id), never changed.
    `record_risk_event` is True when it was new, False for a redelivery of the same event."""

    async def record_risk_event(self, event: StoredRiskEvent) -> bool: ...
    async def get_risk_event(
        self, tenant_id: str, uid: str, strategy_id: str, event_id: str
    ) -> StoredRiskEvent | None: ...
    async def list_risk_events(
        self, tenant_id: str, uid: str, strategy_id: str
    ) -> list[StoredRiskEvent]: ...
    async def list_risk_event_refs(
        self, tenant_id: str, uid: str, strategy_id: str
    ) -> list[RiskEventRef]: ...


class AuditTrail(Protocol):
    """The append-only audit trail, hash-chained per tenant (`governance/audit_chain.py`):
    every append links the event after the tenant's head, in the write's own transaction."""

    async def append_audit_event(self, event: AuditEvent) -> None: ...
    async def get_audit_event(self, tenant_id: str, event_id: str) -> AuditEvent | None: ...
    async def list_audit_events(
        self, tenant_id: str, uid: str | None = None, strategy_id: str | None = None
    ) -> list[AuditEvent]: ...
    async def get_audit_head(self, tenant_id: str) -> AuditHead | None: ...


class CheckpointStore(Protocol):
    """Signed checkpoints, create-only, one per sequence; each lands with its audit event."""

    async def put_checkpoint(self, checkpoint: Checkpoint, event: AuditEvent) -> None: ...
    async def list_checkpoints(self, tenant_id: str) -> list[Checkpoint]: ...


class ReportStore(Protocol):
    """Eligibility reports, stored under their metrics_hash (create-only, idempotent)."""

    async def put_evaluation_report(self, tenant_id: str, report: EligibilityReport) -> str: ...
    async def get_evaluation_report(
        self, tenant_id: str, metrics_hash: str
    ) -> EligibilityReport | None: ...


class IdentityStore(Protocol):
    """Who may act: the approver directory, LIVE confirmation tokens (single-use, atomic
    redemption) and API bearer tokens, the tokens stored as hashes only."""

    async def put_approver(
        self, tenant_id: str, user: str, roles: list[Role], event: AuditEvent | None = None
    ) -> None:
        """Set the person's roles; with `event` (the change's audit event), in the same
        transaction, and a retry whose event is stored already writes nothing."""
        ...

    async def get_approver_roles(self, tenant_id: str, user: str) -> list[Role] | None: ...
    async def list_approvers(self, tenant_id: str) -> dict[str, list[Role]]: ...
    async def put_confirmation_token(self, token: ConfirmationToken) -> None: ...
    async def redeem_confirmation_token(
        self, tenant_id: str, token_hash: str, request_id: str, user: str, now: datetime
    ) -> ConfirmationToken: ...
    async def put_api_token(self, token: ApiToken, event: AuditEvent | None = None) -> None:
        """Create-only (RecordConflict if the hash is stored); with `event`, in the same
        transaction."""
        ...

    async def get_api_token(self, token_hash: str) -> ApiToken | None: ...
    async def revoke_api_token(
        self, token_hash: str, now: datetime, event: AuditEvent | None = None
    ) -> ApiToken | None:
        """The token as revoked (None: unknown). Revoking it the first time writes `event` in
        the same transaction; a token revoked already is returned as it is, nothing written."""
        ...


class SystemStatusStore(Protocol):
    """Platform-wide switches (`systemStatus/config`, e.g. `is_shadow_mode`)."""

    async def get_system_status(self) -> dict[str, Any]: ...
    async def put_system_status(self, status: dict[str, Any]) -> None: ...


class FleetStore(Protocol):
    """Tenant halts (governance/fleet_halt.py) and the batch commit of a fleet's changes.

    `start_tenant_halt` stores the halt document the gate reads, its create-only history entry
    and its audit event together, refusing (AlreadyHalted) while one is active;
    `approve_resume` plans the approval against the halt as stored and writes it create-only
    with its audit events, lifting the halt with the last one needed. `commit_stage_changes`
    applies `plan_commit` to each change, one transaction (SQLite) or one batched write
    (Firestore) per chunk: every strategy's chain exact, the tenant's audit chain linked in
    the order asked; a change refused by its precondition is skipped and reported, the others
    land; a retry with the same record ids writes nothing twice. While the tenant or the
    platform is halted, every commit of a promotion or an unfreeze is refused (TenantHalted),
    the halt read in the commit's own read."""

    async def get_tenant_halt(self, tenant_id: str) -> TenantHalt | None: ...
    async def start_tenant_halt(self, halt: TenantHalt, event: AuditEvent) -> TenantHalt: ...
    async def approve_resume(self, ask: ResumeAsk) -> ResumeStep: ...
    async def list_tenant_halts(self, tenant_id: str) -> list[TenantHalt]: ...
    async def list_resume_approvals(self, tenant_id: str, halt_id: str) -> list[ResumeApproval]: ...
    async def commit_stage_changes(self, changes: list[StageChange]) -> BatchCommit: ...
    async def list_strategy_page(
        self, tenant_id: str, cursor: str | None, limit: int
    ) -> StrategyPage: ...


class GovernanceStore(
    PolicyStore,
    PolicyChangeStore,
    StrategyRecords,
    RequestStore,
    RiskHistory,
    AuditTrail,
    CheckpointStore,
    ReportStore,
    IdentityStore,
    SystemStatusStore,
    FleetStore,
    Protocol,
):
    """Every concern together: what an adapter implements. Callers ask for the parts they use."""

    async def close(self) -> None: ...
