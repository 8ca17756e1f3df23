"""The models of a tenant's ledger verification (see governance/ledger.py)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from governance.audit_chain import AuditChainVerification, AuditHead
from governance.chain import ChainSlot, ChainVerification
from governance.checkpoint import Checkpoint
from governance.hashing import canonical_hash
from governance.policy import PromotionPolicy
from governance.records import AuditEvent, PromotionRecord, StrategyDoc

Key = tuple[str, str]


class PolicyEntry(BaseModel):
    """One stored policy version: its position in the tenant's history and its canonical hash."""

    model_config = ConfigDict(frozen=True)

    position: int
    policy_version: str
    policy_hash: str


def policy_hash(policy_json: object) -> str:
    return canonical_hash(policy_json)


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str  # record | chain_slot | strategy | audit_event | policy | checkpoint | bundle
    subject: str
    reason: str
    record_id: str | None = None  # a record that no longer parses, named by its strategy


class Ledger(BaseModel):
    """Everything a tenant's verification reads. `problems` are what loading already found
    (a record that no longer parses, a bundle file whose hash is wrong)."""

    tenant_id: str
    strategies: list[StrategyDoc] = Field(default_factory=list)
    records: list[PromotionRecord] = Field(default_factory=list)
    chain_slots: list[ChainSlot] = Field(default_factory=list)
    audit_events: list[AuditEvent] = Field(default_factory=list)
    audit_head: AuditHead | None = None
    policies: list[PolicyEntry] = Field(default_factory=list)
    current_policy_hash: str | None = None
    # The versions themselves, for their own hash chain (governance/policy_chain.py) and the
    # `policy_hash` each record cites.
    policy_documents: list[PromotionPolicy] = Field(default_factory=list)
    checkpoints: list[Checkpoint] = Field(default_factory=list)
    problems: list[Finding] = Field(default_factory=list)


class LedgerVerification(BaseModel):
    ok: bool
    tenant_id: str
    chains: dict[str, ChainVerification]
    audit: AuditChainVerification
    checkpoints: int
    findings: list[Finding]
