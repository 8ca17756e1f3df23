"""Signed checkpoints: an Ed25519 signature over a Merkle root of every chain head of a tenant.

A checkpoint commits, at one moment, to each strategy's (uid, strategy_id, chain_length, head
record hash), to the audit chain's head (sequence and hash) and to each policy version's
canonical hash. The leaves are kept with the checkpoint (the root commits to them); the signed
payload holds the counts, the audit head, the root, the previous checkpoint's hash (checkpoints
are chained too) and the id of the key that signed it. Anyone holding the public key can then
show, with no database, that a later copy of the chains extends what was signed: a chain cut
short, or rewritten and rehashed from its first record, no longer holds the signed head.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from enum import StrEnum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import BaseModel, ConfigDict

from governance.hashing import canonical_hash, canonical_json
from governance.merkle import InclusionProof, inclusion_proof, merkle_root, verify_inclusion
from governance.records import Identifier, UtcDatetime

CHECKPOINT_EVENT = "records.checkpointed"


class LeafKind(StrEnum):
    STRATEGY = "strategy"
    AUDIT = "audit"
    POLICY = "policy"


class Leaf(BaseModel):
    """One committed head. strategy: uid, strategy_id, chain_length, head_hash (None for no
    records); audit: chain_length = audit_sequence, head_hash = event_hash; policy:
    strategy_id = policy_version, chain_length = its position, head_hash = its hash."""

    model_config = ConfigDict(frozen=True)

    kind: LeafKind
    uid: str | None = None
    strategy_id: str | None = None
    chain_length: int
    head_hash: str | None = None

    def encoded(self) -> bytes:
        return canonical_json(self)

    def key(self) -> tuple[str, str | None, str | None]:
        return (self.kind.value, self.uid, self.strategy_id)


def sorted_leaves(leaves: Sequence[Leaf]) -> list[Leaf]:
    """One order for everyone: by the canonical bytes, so a verifier rebuilds the same tree."""
    return sorted(leaves, key=lambda leaf: leaf.encoded())


class CheckpointBody(BaseModel):
    """What the signature covers."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant_id: Identifier
    checkpoint_id: Identifier
    sequence: int
    prev_checkpoint_hash: str | None = None
    created_at: UtcDatetime
    strategies: int
    records: int
    audit_events: int
    policy_versions: int
    audit_head_sequence: int
    audit_head_hash: str | None = None
    merkle_root: str
    key_id: str


class Checkpoint(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    body: CheckpointBody
    signature: str  # base64 of the Ed25519 signature over canonical_json(body)
    leaves: list[Leaf]

    def checkpoint_hash(self) -> str:
        """What the next checkpoint and the audit trail cite: body and signature."""
        return canonical_hash({"body": self.body, "signature": self.signature})


def key_id(public: Ed25519PublicKey) -> str:
    """A stable short name of a public key: the first 16 hex of SHA-256 of its raw bytes."""
    return hashlib.sha256(public.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()[:16]


def public_key_b64(public: Ed25519PublicKey) -> str:
    return base64.b64encode(public.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def load_public_key(b64: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(b64))


def counts_of(leaves: Sequence[Leaf]) -> dict[str, int]:
    audit = [leaf for leaf in leaves if leaf.kind == LeafKind.AUDIT]
    strategies = [leaf for leaf in leaves if leaf.kind == LeafKind.STRATEGY]
    return {
        "strategies": len(strategies),
        "records": sum(leaf.chain_length for leaf in strategies),
        "audit_events": audit[0].chain_length if audit else 0,
        "policy_versions": sum(1 for leaf in leaves if leaf.kind == LeafKind.POLICY),
    }


def make_checkpoint(
    *,
    tenant_id: str,
    checkpoint_id: str,
    sequence: int,
    prev: Checkpoint | None,
    created_at: object,
    leaves: Sequence[Leaf],
    key: Ed25519PrivateKey,
) -> Checkpoint:
    ordered = sorted_leaves(leaves)
    audit = next((leaf for leaf in ordered if leaf.kind == LeafKind.AUDIT), None)
    body = CheckpointBody.model_validate(
        {
            "tenant_id": tenant_id,
            "checkpoint_id": checkpoint_id,
            "sequence": sequence,
            "prev_checkpoint_hash": prev.checkpoint_hash() if prev else None,
            "created_at": created_at,
            **counts_of(ordered),
            "audit_head_sequence": audit.chain_length if audit else 0,
            "audit_head_hash": audit.head_hash if audit else None,
            "merkle_root": merkle_root([leaf.encoded() for leaf in ordered]),
            "key_id": key_id(key.public_key()),
        }
    )
    signature = base64.b64encode(key.sign(canonical_json(body))).decode()
    return Checkpoint(body=body, signature=signature, leaves=ordered)


def signature_problem(cp: Checkpoint, keys: dict[str, Ed25519PublicKey]) -> str | None:
    """None when the checkpoint is signed by a known key and its leaves give its root and
    counts; otherwise what is wrong."""
    public = keys.get(cp.body.key_id)
    if public is None:
        return f"signed with key {cp.body.key_id}, which is not among the published public keys"
    try:
        public.verify(base64.b64decode(cp.signature), canonical_json(cp.body))
    except (InvalidSignature, ValueError):
        return "the signature does not verify (the checkpoint was altered or forged)"
    ordered = sorted_leaves(cp.leaves)
    if merkle_root([leaf.encoded() for leaf in ordered]) != cp.body.merkle_root:
        return "its leaves do not give the signed merkle_root (a leaf was altered)"
    counts = counts_of(ordered)
    signed = {name: getattr(cp.body, name) for name in counts}
    if counts != signed:
        return f"its leaves count {counts}, the signed counts are {signed}"
    return None


def proof_for(cp: Checkpoint, leaf: Leaf) -> InclusionProof | None:
    ordered = sorted_leaves(cp.leaves)
    try:
        index = ordered.index(leaf)
    except ValueError:
        return None
    return inclusion_proof([one.encoded() for one in ordered], index)


def proves(cp: Checkpoint, leaf: Leaf, proof: InclusionProof) -> bool:
    return proof.tree_size == len(cp.leaves) and verify_inclusion(
        leaf.encoded(), proof, cp.body.merkle_root
    )
