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


def modules(path: Path) -> set[str]:
    """Every absolute module a file imports, at any depth (a lazy import counts too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def imports(path: Path) -> set[str]:
    return {m.split(".")[0] for m in modules(path)}


def sources(package: str) -> list[Path]:
    # A layer that does not exist yet has nothing to check.
    return sorted((ROOT / package).rglob("*.py")) if (ROOT / package).is_dir() else []


def test_layers_import_only_downwards() -> None:
    problems = []
    for package, forbidden in FORBIDDEN.items():
        for path in sources(package):
            bad = imports(path) & forbidden
            if bad:
                problems.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert not problems, "\n".join(problems)


def test_activities_reach_the_store_only_through_its_port() -> None:
    allowed = {"store.port", "store.factory"}
    problems = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sources("activities")
        for module in sorted(modules(path))
        if module.split(".")[0] == "store" and module not in allowed
    ]
    assert not problems, "\n".join(problems)


def test_the_check_sees_every_form_of_import(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import store.sqlite\nfrom temporalio import workflow\nfrom . import sibling\n"
        "def later():\n    import google.cloud.firestore\n"
    )
    assert modules(probe) == {"store.sqlite", "temporalio", "google.cloud.firestore"}


def test_no_module_is_too_long() -> None:
    long = [
        f"{p.relative_to(ROOT)} ({n} lines)"
        for package in ("governance", "store", "evidence", "workflows", "activities", "api", "cli")
        for p in sources(package)
        if (n := len(p.read_text().splitlines())) > 420
    ]
    assert not long, long
