"""What a use case may reach: the store's ports, Temporal, the assertion signer, the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from governance.errors import GovernanceError
from store.port import GovernanceStore

if TYPE_CHECKING:  # the gate's hot path (`gate check`) must not load Temporal's SDK
    from temporalio.client import Client

    from app.evaluations import Evaluations


class Unavailable(GovernanceError):
    """A service the use case needs is not there (503, not a refusal of the input)."""

    code = "unavailable"


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Ports:
    store: GovernanceStore
    client: Client | None
    task_queue: str
    # Signs approvals for people the caller authenticated (the API); None where nobody was
    # authenticated (a local operator), so no approval can be given from there.
    signer: Ed25519PrivateKey | None = None
    now: Callable[[], datetime] = field(default=_utcnow)
    # Signs checkpoints (loaded, or made, only when one is signed); the public keys a
    # verification trusts, the current one and every earlier one still published.
    checkpoint_signer: Callable[[], Ed25519PrivateKey] | None = None
    checkpoint_keys: Callable[[], list[Ed25519PublicKey]] = field(default=list)
    # Reads evidence and builds reports, for the use cases that recompute one (explain,
    # what-if); None where only stored documents are read.
    evaluations: Evaluations | None = None

    def temporal(self) -> Client:
        if self.client is None:
            raise Unavailable("no Temporal connection: is the stack running?", field="temporal")
        return self.client

    def evaluator(self) -> Evaluations:
        if self.evaluations is None:
            raise Unavailable("no evidence source configured here", field="evidence")
        return self.evaluations
