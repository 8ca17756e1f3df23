"""Session-wide test plumbing shared by every suite."""

from __future__ import annotations

import os
import sys
import uuid

import pytest


@pytest.fixture
def tenant() -> str:
    """A tenant id of this test's own, so tests can share one server and one database."""
    return f"t-{uuid.uuid4().hex[:12]}"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # A process that used a Temporal client may abort at interpreter exit (sdk-python #300,
    # exit 134 after a correct run); end the run deliberately with pytest's own status.
    if os.environ.get("STRATGATE_PYTEST_NO_HARD_EXIT"):
        return
    session.config.add_cleanup(lambda: _hard_exit(int(exitstatus)))


def _hard_exit(code: int) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
