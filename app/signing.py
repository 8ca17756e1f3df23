"""Loading the approval-assertion keys from settings (the embedded stack makes its own)."""

from __future__ import annotations

import base64
import contextlib
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from settings import Settings

KEY_FILE = "assertion.key"
CHECKPOINT_KEY_FILE = "checkpoint.key"


def _raw(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    """STRATGATE_ASSERTION_KEY, or the data directory's key file (created, 0600, if absent)."""
    return _key(settings.assertion_key, Path(settings.home) / KEY_FILE)


def checkpoint_key(settings: Settings) -> Ed25519PrivateKey:
    """STRATGATE_CHECKPOINT_KEY, or $STRATGATE_HOME/checkpoint.key (created, 0600, if absent)."""
    return _key(settings.checkpoint_key, Path(settings.home) / CHECKPOINT_KEY_FILE)


def checkpoint_public_keys(settings: Settings) -> list[Ed25519PublicKey]:
    """The checkpoint keys a verifier trusts: the signing key's own (when this host has it) and
    every earlier one still published. Rotation: set the new private key, add the old public
    key to STRATGATE_CHECKPOINT_PUBLIC_KEYS; old checkpoints keep verifying."""
    keys = [
        Ed25519PublicKey.from_public_bytes(base64.b64decode(k))
        for k in settings.checkpoint_public_keys
    ]
    if settings.checkpoint_key or (Path(settings.home) / CHECKPOINT_KEY_FILE).exists():
        keys.insert(0, checkpoint_key(settings).public_key())
    return keys


def _key(configured: str | None, path: Path) -> Ed25519PrivateKey:
    if configured:
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(configured))
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = Ed25519PrivateKey.generate()
        with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(base64.b64encode(_raw(fresh)))
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(path.read_bytes()))


def public_keys(settings: Settings) -> list[Ed25519PublicKey]:
    """The keys a worker accepts: the published ones, plus the signing key's own when this
    host has it (the embedded stack). Rotation: publish the new key beside the old one."""
    keys = [
        Ed25519PublicKey.from_public_bytes(base64.b64decode(k))
        for k in settings.assertion_public_keys
    ]
    if settings.assertion_key or (Path(settings.home) / KEY_FILE).exists() or not keys:
        keys.append(signing_key(settings).public_key())
    return keys
