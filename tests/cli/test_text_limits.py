"""The CLI applies the API's comment and reason limits, refusing before it connects."""

from __future__ import annotations

from pathlib import Path

import pytest

from governance.bounds import COMMENT_MAX, REASON_MAX
from tests.cli.support import refused, sg

WHERE = ("--tenant", "demo", "--uid", "quant", "--strategy", "momo")


@pytest.mark.parametrize(
    ("command", "option", "limit"),
    [
        (("approve", "--role", "risk_approver", "--as", "bob"), "--comment", COMMENT_MAX),
        (("reject", "--role", "risk_approver", "--as", "bob"), "--comment", COMMENT_MAX),
        (("promote", "request", "--to", "SHADOW", "--as", "quant"), "--reason", REASON_MAX),
        (("promote", "cancel", "--as", "quant"), "--reason", REASON_MAX),
        (("unfreeze", "--as", "quant"), "--reason", REASON_MAX),
        (("live", "renew", "--as", "quant"), "--reason", REASON_MAX),
    ],
)
def test_text_past_the_limit_is_refused_naming_the_option(
    tmp_path: Path, command: tuple[str, ...], option: str, limit: int
) -> None:
    # No stack runs here: at the limit the command gets as far as looking for one.
    long = sg(tmp_path, *command, *WHERE, option, "x" * (limit + 1))
    refused(long, f"{option}: {limit + 1} characters exceeds the limit of {limit} characters")
    at_limit = sg(tmp_path, *command, *WHERE, option, "x" * limit)
    refused(at_limit, "no running stack")
