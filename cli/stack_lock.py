"""One `stratgate up` per data directory.

Two stacks on one data directory would share the Temporal database and the store, and the one
stopping first would delete the other's `stack.json`. So `up` holds an exclusive `flock` on
`stack.lock` for its whole life; the kernel releases it however the process ends (a crash or
SIGKILL included), so a stale lock never blocks the next `up`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from cli.embedded import StackInfo, describe, stack_file

LOCK_NAME = "stack.lock"


class StackRunning(RuntimeError):
    """Another `up` holds this data directory."""


@contextlib.contextmanager
def hold_data_dir(home: Path) -> Iterator[str]:
    """Hold the data directory's lock; yields the token this stack writes in `stack.json`."""
    home.mkdir(parents=True, exist_ok=True)
    # os.open's descriptor is not inherited: the Temporal server `up` starts must not keep the
    # lock alive after `up` itself is gone.
    fd = os.open(home / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StackRunning(_held_by(home, fd)) from None
        token = uuid.uuid4().hex
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "token": token}).encode(), 0)
        yield token
    finally:
        os.close(fd)  # releases the lock


def _held_by(home: Path, fd: int) -> str:
    holder = _read_json(os.pread(fd, 4096, 0))
    pid = holder.get("pid", "unknown")
    info = _running_stack(home, holder.get("token"))
    if info is None:
        return (
            f"another `stratgate up` (pid {pid}) is starting on {home}: wait for it, or stop it "
            "before starting another (or use another --data-dir)"
        )
    return (
        f"another `stratgate up` (pid {pid}) is running on {home}:\n{describe(info)}\n"
        "stop it (Ctrl-C in its terminal) before starting another, or use another --data-dir"
    )


def _running_stack(home: Path, token: object) -> StackInfo | None:
    """The holder's own `stack.json`, not one a previous stack left behind."""
    try:
        info = StackInfo.model_validate_json(stack_file(home).read_text())
    except (OSError, ValueError):
        return None
    return info if token and info.token == token else None


def _read_json(raw: bytes) -> dict[str, object]:
    try:
        found = json.loads(raw)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}
