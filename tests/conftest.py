"""Session-wide test plumbing shared by every suite."""

from __future__ import annotations

import os
import sys
import uuid

import pytest

pytest_plugins = ["tests.support.temporal_fixtures", "tests.support.firestore_emulator"]


@pytest.fixture
def tenant() -> str:
    """A tenant id of this test's own, so tests can share one server and one database."""
    return f"t-{uuid.uuid4().hex[:12]}"


_exit_status = {"code": 0}


def pytest_configure(config: pytest.Config) -> None:
    # A process that used a Temporal client may abort at interpreter exit (sdk-python #300:
    # exit 134 after a correct run). Registered first, this cleanup runs last, after every
    # other plugin's, and ends the process with pytest's own status.
    if not os.environ.get("STRATGATE_PYTEST_NO_HARD_EXIT"):
        config.add_cleanup(lambda: _hard_exit(config))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _exit_status["code"] = int(exitstatus)


def _hard_exit(config: pytest.Config) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter._tw.flush()  # the summary line CI reads must reach the terminal first
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        if stream is not None:
            stream.flush()
    os._exit(_exit_status["code"])
