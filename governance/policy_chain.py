"""The tenant's policy versions as a hash chain, like a strategy's records.

Each stored version carries `policy_hash` (RFC 8785 canonical hash of the version without that
field, so its `prev_policy_hash`, author, time and proposal are covered) and `prev_policy_hash`,
the hash of the version published before it. A record that cites a `policy_hash` therefore pins
the whole history of the policy up to that version.

Versions stored before the chain existed have no hashes: the first chained version links to the
last of them by its computed hash, so even that one cannot be edited unnoticed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from governance.hashing import canonical_hash
from governance.policy import PromotionPolicy

# What the store stamps on publication; a proposed document never decides them itself.
STAMPS = frozenset({"updated_at", "updated_by", "proposal_id", "prev_policy_hash", "policy_hash"})


def computed_policy_hash(policy: PromotionPolicy) -> str:
    return canonical_hash(policy.model_dump(mode="json", exclude={"policy_hash"}))


def link_hash(policy: PromotionPolicy) -> str:
    """The hash the next version links to: the stored one, or computed for a version written
    before the chain existed."""
    return policy.policy_hash or computed_policy_hash(policy)


def content(policy: PromotionPolicy) -> dict[str, Any]:
    """What a version says, without what the store stamps on it."""
    return policy.model_dump(mode="json", exclude=set(STAMPS))


def unstamped(policy: PromotionPolicy) -> PromotionPolicy:
    return policy.model_copy(update=dict.fromkeys(STAMPS))


def same_version(stored: PromotionPolicy, policy: PromotionPolicy) -> bool:
    """A re-put of a stored version: the same document, whatever chain stamps it carries."""
    chain = {"prev_policy_hash", "policy_hash"}
    return stored.model_dump(mode="json", exclude=chain) == policy.model_dump(
        mode="json", exclude=chain
    )


def chain_version(policy: PromotionPolicy, last: PromotionPolicy | None) -> PromotionPolicy:
    """`policy` as the next version after `last` (None: the tenant's first)."""
    linked = policy.model_copy(
        update={"prev_policy_hash": link_hash(last) if last else None, "policy_hash": None}
    )
    return linked.model_copy(update={"policy_hash": computed_policy_hash(linked)})


class PolicyChainVerification(BaseModel):
    ok: bool
    checked: int
    unchained: int = 0  # leading versions written before the chain existed
    head_policy_hash: str | None = None
    first_broken_version: str | None = None
    reason: str | None = None


def verify_policy_chain(
    versions: Sequence[PromotionPolicy], current: PromotionPolicy | None
) -> PolicyChainVerification:
    """Every version's own hash, its link to the one before, and that the current policy (what
    promotions are judged by) is one of the chain's versions, unaltered.

    Catches an edited version (its hash), a removed or inserted one (the next link), and an
    edited current policy document; names the first version that breaks."""
    prev: PromotionPolicy | None = None
    unchained = 0
    for position, version in enumerate(versions, start=1):
        problem = None
        if version.policy_hash is None:
            if prev is not None and prev.policy_hash is not None:
                problem = "policy_hash missing after the chain began (removed)"
            elif version.prev_policy_hash is not None:
                problem = "prev_policy_hash set but policy_hash missing (altered)"
            else:
                unchained += 1
        elif version.policy_hash != computed_policy_hash(version):
            problem = "policy_hash does not match the version's content (altered)"
        if problem is None and version.policy_hash is not None:
            expected = link_hash(prev) if prev is not None else None
            if version.prev_policy_hash != expected:
                problem = (
                    "prev_policy_hash does not match the previous version's hash "
                    "(a version was removed, inserted or reordered)"
                )
        if problem:
            return PolicyChainVerification(
                ok=False,
                checked=position,
                unchained=unchained,
                first_broken_version=version.policy_version,
                reason=problem,
            )
        prev = version
    head = link_hash(prev) if prev is not None else None
    if current is not None:
        match = next((v for v in versions if v.policy_version == current.policy_version), None)
        if match is None or match.model_dump(mode="json") != current.model_dump(mode="json"):
            return PolicyChainVerification(
                ok=False,
                checked=len(versions),
                unchained=unchained,
                head_policy_hash=head,
                first_broken_version=current.policy_version,
                reason="the current policy is not a stored version as published (altered)",
            )
    elif versions:
        return PolicyChainVerification(
            ok=False,
            checked=len(versions),
            unchained=unchained,
            head_policy_hash=head,
            first_broken_version=versions[-1].policy_version,
            reason="versions exist but the tenant has no current policy (removed)",
        )
    return PolicyChainVerification(
        ok=True, checked=len(versions), unchained=unchained, head_policy_hash=head
    )
