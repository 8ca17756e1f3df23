"""The export bundle: a tenant's ledger as a directory of JSON files and a manifest of their
hashes, written and read back with no database (pure: bytes in, bytes out).

    manifest.json        format, tenant, time, and the SHA-256 of every other file
    strategies.jsonl     strategy documents            records.jsonl     promotion records
    chain_slots.jsonl    chain slots                   audit_events.jsonl  the audit trail
    audit_head.json      the audit chain's head        policies.jsonl    {position, policy}
    current_policy.json  the policy in force           checkpoints.jsonl signed checkpoints
    proofs.json          inclusion proof of each head in the latest checkpoint
    public_keys.json     every checkpoint key (key_id, base64), old ones included
    evidence_refs.jsonl  the evidence each record cites (kind, id, sha256), for the auditor

The manifest only catches accidents: whoever edits a file can rewrite it. What an attacker cannot
rewrite is the checkpoints' signatures, and the verifier trusts only the public keys it is given,
never the ones in the bundle.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ValidationError

from governance.audit_chain import AuditHead
from governance.chain import ChainSlot
from governance.checkpoint import Checkpoint
from governance.hashing import to_jsonable
from governance.ledger import (
    Finding,
    Ledger,
    LedgerVerification,
    PolicyEntry,
    policy_hash,
    proofs_of,
    verify_ledger,
)
from governance.merkle import InclusionProof
from governance.policy import load_stored_policy
from governance.records import AuditEvent, PromotionRecord, StrategyDoc

T = TypeVar("T")
FORMAT = "stratgate-export/1"
MANIFEST = "manifest.json"


class PublicKeyEntry(BaseModel):
    key_id: str
    public_key: str


class ParsedBundle(BaseModel):
    ledger: Ledger
    proofs: dict[str, InclusionProof]
    public_keys: list[PublicKeyEntry]


def _jsonl(items: Iterable[Any]) -> bytes:
    return b"".join(json.dumps(to_jsonable(i), sort_keys=True).encode() + b"\n" for i in items)


def _json(item: Any) -> bytes:
    return json.dumps(to_jsonable(item), sort_keys=True, indent=1).encode() + b"\n"


def render_bundle(
    ledger: Ledger,
    policies: list[dict[str, Any]],
    current_policy: dict[str, Any] | None,
    public_keys: list[PublicKeyEntry],
    exported_at: datetime,
) -> dict[str, bytes]:
    """Every file of the bundle by name; `policies` are the stored versions in order."""
    latest = max(ledger.checkpoints, key=lambda c: c.body.sequence, default=None)
    files = {
        "strategies.jsonl": _jsonl(ledger.strategies),
        "records.jsonl": _jsonl(ledger.records),
        "chain_slots.jsonl": _jsonl(ledger.chain_slots),
        "audit_events.jsonl": _jsonl(ledger.audit_events),
        "audit_head.json": _json(ledger.audit_head),
        "policies.jsonl": _jsonl(
            {"position": n, "policy": p} for n, p in enumerate(policies, start=1)
        ),
        "current_policy.json": _json(current_policy),
        "checkpoints.jsonl": _jsonl(ledger.checkpoints),
        "proofs.json": _json(proofs_of(latest) if latest else {}),
        "public_keys.json": _json(public_keys),
        "evidence_refs.jsonl": _jsonl(
            {"record_id": r.record_id, **ref.model_dump()}
            for r in ledger.records
            for ref in r.evidence_refs
        ),
    }
    files[MANIFEST] = _json(
        {
            "format": FORMAT,
            "tenant_id": ledger.tenant_id,
            "exported_at": exported_at.isoformat(),
            "files": {
                name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())
            },
        }
    )
    return files


def _lines(data: bytes) -> list[str]:
    return [line for line in data.decode().splitlines() if line.strip()]


def _parse_lines(
    files: dict[str, bytes],
    name: str,
    parse: Callable[[str], T],
    problems: list[Finding],
    kind: str,
) -> list[T]:
    found: list[T] = []
    for number, line in enumerate(_lines(files.get(name, b"")), start=1):
        try:
            found.append(parse(line))
        except (ValidationError, ValueError) as exc:
            problems.append(
                Finding(
                    kind=kind,
                    subject=f"{name}:{number}",
                    reason=f"no longer parses ({type(exc).__name__}): altered",
                )
            )
    return found


def read_bundle(files: dict[str, bytes]) -> ParsedBundle:
    """The bundle's ledger, with what reading it found (a file missing or not matching the
    manifest, a line that does not parse) among the ledger's problems."""
    problems: list[Finding] = []
    try:
        manifest = json.loads(files[MANIFEST])
        listed: dict[str, str] = dict(manifest["files"])
        tenant_id = str(manifest["tenant_id"])
        if manifest.get("format") != FORMAT:
            problems.append(Finding(kind="bundle", subject=MANIFEST, reason="unknown format"))
    except (KeyError, ValueError, TypeError):
        problems.append(Finding(kind="bundle", subject=MANIFEST, reason="missing or unreadable"))
        listed, tenant_id = {}, ""
    for name in sorted(set(listed) | (set(files) - {MANIFEST})):
        if name not in files:
            problems.append(Finding(kind="bundle", subject=name, reason="listed but missing"))
        elif listed.get(name) != hashlib.sha256(files[name]).hexdigest():
            problems.append(
                Finding(kind="bundle", subject=name, reason="its hash is not the manifest's")
            )

    def policy_line(line: str) -> PolicyEntry:
        data = json.loads(line)
        policy = data["policy"]
        return PolicyEntry(
            position=int(data["position"]),
            policy_version=str(policy["policy_version"]),
            policy_hash=policy_hash(policy),
        )

    policies = _parse_lines(files, "policies.jsonl", policy_line, problems, "policy")
    unparsed: list[Finding] = []  # already named through `policies` above
    documents = _parse_lines(
        files,
        "policies.jsonl",
        lambda line: load_stored_policy(json.loads(line)["policy"]),
        unparsed,
        "policy",
    )
    head_raw = json.loads(files.get("audit_head.json", b"null") or b"null")
    current = json.loads(files.get("current_policy.json", b"null") or b"null")
    ledger = Ledger(
        tenant_id=tenant_id,
        strategies=_parse_lines(
            files, "strategies.jsonl", StrategyDoc.model_validate_json, problems, "strategy"
        ),
        records=_parse_lines(
            files, "records.jsonl", PromotionRecord.model_validate_json, problems, "record"
        ),
        chain_slots=_parse_lines(
            files, "chain_slots.jsonl", ChainSlot.model_validate_json, problems, "chain_slot"
        ),
        audit_events=_parse_lines(
            files, "audit_events.jsonl", AuditEvent.model_validate_json, problems, "audit_event"
        ),
        audit_head=AuditHead.model_validate(head_raw) if head_raw else None,
        policies=policies,
        current_policy_hash=policy_hash(current) if current is not None else None,
        policy_documents=[] if unparsed else documents,
        checkpoints=_parse_lines(
            files, "checkpoints.jsonl", Checkpoint.model_validate_json, problems, "checkpoint"
        ),
        problems=problems,
    )
    raw_proofs = json.loads(files.get("proofs.json", b"{}") or b"{}")
    raw_keys = json.loads(files.get("public_keys.json", b"[]") or b"[]")
    return ParsedBundle(
        ledger=ledger,
        proofs={k: InclusionProof.model_validate(v) for k, v in raw_proofs.items()},
        public_keys=[PublicKeyEntry.model_validate(k) for k in raw_keys],
    )


def verify_bundle(files: dict[str, bytes], keys: dict[str, Ed25519PublicKey]) -> LedgerVerification:
    """Everything `verify_ledger` checks, on a bundle, with the given trusted keys only; the
    inclusion proofs checked are the bundle's own."""
    parsed = read_bundle(files)
    return verify_ledger(parsed.ledger, keys, proofs=parsed.proofs)
