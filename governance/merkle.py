"""A Merkle tree over byte-string leaves, RFC 6962 / RFC 9162 style.

Leaf and interior hashes are domain-separated (a 0x00 prefix for leaves, 0x01 for nodes), so a
leaf can never be passed off as an interior node and a proof cannot be shortened. The tree of n
leaves splits at the largest power of two below n, as Certificate Transparency does; the root
of no leaves is the hash of the empty string.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def leaf_hash(leaf: bytes) -> bytes:
    return _sha(LEAF_PREFIX + leaf)


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha(NODE_PREFIX + left + right)


def _split(n: int) -> int:
    """The largest power of two strictly below n (n >= 2)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _root(hashes: Sequence[bytes]) -> bytes:
    if len(hashes) == 1:
        return hashes[0]
    k = _split(len(hashes))
    return node_hash(_root(hashes[:k]), _root(hashes[k:]))


def merkle_root(leaves: Sequence[bytes]) -> str:
    """Hex root of the tree over `leaves`, in the order given."""
    if not leaves:
        return _sha(b"").hex()
    return _root([leaf_hash(leaf) for leaf in leaves]).hex()


class InclusionProof(BaseModel):
    """That leaf `index` of a tree of `tree_size` leaves is under a root: the sibling hashes
    from the leaf up (hex)."""

    model_config = ConfigDict(frozen=True)

    index: int
    tree_size: int
    path: list[str]


def _path(index: int, hashes: Sequence[bytes]) -> list[bytes]:
    if len(hashes) == 1:
        return []
    k = _split(len(hashes))
    if index < k:
        return [*_path(index, hashes[:k]), _root(hashes[k:])]
    return [*_path(index - k, hashes[k:]), _root(hashes[:k])]


def inclusion_proof(leaves: Sequence[bytes], index: int) -> InclusionProof:
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf index {index} is outside a tree of {len(leaves)} leaves")
    hashes = [leaf_hash(leaf) for leaf in leaves]
    return InclusionProof(
        index=index, tree_size=len(leaves), path=[h.hex() for h in _path(index, hashes)]
    )


def verify_inclusion(leaf: bytes, proof: InclusionProof, root: str) -> bool:
    """RFC 9162 section 2.1.3.2: recompute the root from the leaf and its audit path."""
    if not 0 <= proof.index < proof.tree_size:
        return False
    try:
        path = [bytes.fromhex(p) for p in proof.path]
    except ValueError:
        return False
    fn, sn = proof.index, proof.tree_size - 1
    r = leaf_hash(leaf)
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r.hex() == root
