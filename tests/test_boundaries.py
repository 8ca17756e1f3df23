"""The layers' arrows point down: checked on the source, so a stray import fails CI."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "governance": {
        "temporalio",
        "google",
        "fastapi",
        "starlette",
        "typer",
        "store",
        "activities",
        "workflows",
        "api",
        "cli",
        "evidence",
        "uvicorn",
        "worker",
        "settings",
    },
    "workflows": {"store", "google", "fastapi", "starlette", "sqlite3", "api", "cli", "evidence"},
    "activities": {"google", "fastapi", "api", "cli", "sqlite3", "workflows"},
    "store": {"temporalio", "fastapi", "api", "cli", "workflows", "activities"},
    "evidence": {
        "temporalio",
        "google",
        "fastapi",
        "store",
        "workflows",
        "activities",
        "api",
        "cli",
    },
}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_layers_import_only_downwards() -> None:
    problems = []
    for package, forbidden in FORBIDDEN.items():
        for path in sorted((ROOT / package).rglob("*.py")):
            bad = imports(path) & forbidden
            if bad:
                problems.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert not problems, "\n".join(problems)


def test_activities_reach_the_store_only_through_its_port() -> None:
    for path in sorted((ROOT / "activities").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("store"):
                assert node.module == "store.port", f"{path.name} imports {node.module}"


def test_no_module_is_too_long() -> None:
    long = [
        f"{p.relative_to(ROOT)} ({n} lines)"
        for package in ("governance", "store", "evidence", "workflows", "activities", "api", "cli")
        for p in (ROOT / package).rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 420
    ]
    assert not long, long
