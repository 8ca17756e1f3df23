"""The README works in a clone: everything it points to is in the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
# Web addresses a reader may open: the stack's own, and project sites (not files elsewhere).
WEB = re.compile(r"^https?://(127\.0\.0\.1|localhost)[:/]|^https://temporal\.io/?$")


def test_nothing_outside_the_repository() -> None:
    assert "../" not in README
    assert "/work/" not in README


def test_every_link_and_named_document_exists() -> None:
    targets = re.findall(r"\]\(([^)\s]+)\)", README)
    named = re.findall(
        r"`((?:docs|tests|cli|api|app|governance|workflows|store)/[\w./-]+)`", README
    )
    assert targets and named
    for target in [*targets, *named]:
        if target.startswith(("http://", "https://")):
            assert WEB.match(target), target
            continue
        path = target.split("#")[0]
        assert (ROOT / path).exists(), target


def test_the_spec_a_reader_needs_ships_in_docs() -> None:
    spec = (ROOT / "docs" / "spec" / "promotion-framework.md").read_text()
    assert "policy_version" in spec and "OBSERVE" in spec
