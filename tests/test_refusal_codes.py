"""Every refusal code in the code base is one of `RefusalCode`'s, so each entry point can map
them all (a new string fails here, not in a client that does not know it)."""

from __future__ import annotations

import ast
from pathlib import Path

from governance.refusals import RefusalCode

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("governance", "app", "activities", "workflows", "store", "evidence", "api", "cli")


def codes_in(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            if getattr(node.func, "id", None) == "GateReason":
                continue  # the gate's reasons are its own vocabulary (governance/gate.py)
            for kw in node.keywords:  # GovernanceError(..., code="...")
                if kw.arg == "code" and isinstance(kw.value, ast.Constant):
                    found.add(str(kw.value.value))
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name == "refuse" and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant):
                found.add(str(node.args[1].value))  # a workflow update's refusal
        elif isinstance(node, ast.ClassDef):
            for stmt in node.body:  # class SomeError(GovernanceError): code = "..."
                if (
                    isinstance(stmt, ast.Assign)
                    and [getattr(t, "id", None) for t in stmt.targets] == ["code"]
                    and isinstance(stmt.value, ast.Constant)
                ):
                    found.add(str(stmt.value.value))
    return found


def test_every_refusal_code_is_in_the_vocabulary() -> None:
    known = {c.value for c in RefusalCode}
    unknown = {
        f"{path.relative_to(ROOT)}: {code}"
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for code in codes_in(path) - known
    }
    assert not unknown, sorted(unknown)


def test_the_scan_finds_each_form(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "class E(GovernanceError):\n    code = 'one'\n"
        "raise GovernanceError('m', code='two')\nraise refuse('m', 'three', 'f')\n"
    )
    assert codes_in(probe) == {"one", "two", "three"}


def test_every_code_has_one_http_status() -> None:
    from api.errors import STATUS_BY_CODE

    assert set(STATUS_BY_CODE) == set(RefusalCode)
    assert STATUS_BY_CODE[RefusalCode.UNAVAILABLE] == 503  # not the caller's fault
    assert all(400 <= s < 600 for s in STATUS_BY_CODE.values())
