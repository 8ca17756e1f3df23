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
        "structlog",  # logs are written and configured at the edges
        "logging_setup",
    },
    "app": {"fastapi", "starlette", "typer", "api", "cli", "google", "sqlite3", "uvicorn"},
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


# The entry points of use cases: parse, call `app`, render. They name governance's types (and
# its input parsers), never reach the store or Temporal themselves.
ENTRY_POINTS = [
    "api/routes_requests.py",
    "api/routes_registry.py",
    "api/routes_policy.py",
    "api/routes_explain.py",
    "api/routes_fleet.py",
    "cli/fleet.py",
    "cli/what_if.py",
    "api/ui.py",
    "cli/promote.py",
    "cli/risk.py",
    "cli/live.py",
    "cli/gate.py",
    "cli/policy.py",
    "cli/strategy.py",
    "cli/records.py",
    "cli/evidence.py",
    "cli/history.py",
    "cli/users.py",
    "cli/tokens.py",
]
INPUT_PARSERS = {
    "check_json",
    "text_too_deep",
    "check_text",
    "parse_policy",
    "default_policy",
    "format_of",  # a fleet file's rows, checked before `--api` sends them
    "parse_rows",
}


def test_entry_points_reach_store_temporal_and_rules_only_through_the_application_layer() -> None:
    import importlib

    problems = []
    for name in ENTRY_POINTS:
        path = ROOT / name
        source = path.read_text()
        if ".store." in source:
            problems.append(f"{name} uses a store directly")
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.ImportFrom) or not node.module or node.level:
                continue
            top = node.module.split(".")[0]
            if top == "store" or node.module in ("workflows.client", "temporalio.client"):
                problems.append(f"{name} imports {node.module}")
            if top == "governance":
                module = importlib.import_module(node.module)
                for alias in node.names:
                    value = getattr(module, alias.name)
                    rule = callable(value) and not isinstance(value, type)
                    if rule and alias.name not in INPUT_PARSERS:
                        problems.append(f"{name} calls governance's {alias.name}")
    assert not problems, "\n".join(problems)
