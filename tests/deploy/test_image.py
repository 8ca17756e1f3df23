"""The container image: it holds every module the package installs, and knows its commit."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

from settings import Settings
from worker import fingerprint

ROOT = Path(__file__).resolve().parents[2]


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", text)
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def test_the_image_copies_everything_the_package_installs() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    copied = set()
    for word, rest in instructions(dockerfile()):
        if word == "COPY":
            copied.update(rest.split()[:-1])
    packages = {p.rstrip("*") for p in project["packages"]["find"]["include"]}
    modules = {f"{m}.py" for m in project["py-modules"]}
    assert packages | modules <= copied, (packages | modules) - copied


def test_the_commit_is_a_build_argument_baked_into_the_fingerprint_variable() -> None:
    steps = instructions(dockerfile())
    arg = steps.index(("ARG", "GIT_SHA"))
    envs = " ".join(rest for word, rest in steps if word == "ENV")
    assert re.search(r"\bSTRATGATE_GIT_SHA=\$\{?GIT_SHA\}?(\s|$)", envs), envs
    assert arg < next(i for i, (w, r) in enumerate(steps) if w == "ENV" and "GIT_SHA" in r)
    # An image built without it would say "unknown" in every record: the build refuses.
    assert any(w == "RUN" and 'test -n "$GIT_SHA"' in r for w, r in steps)


def test_compose_passes_the_commit_and_refuses_to_build_without_it() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    built = [s for s in services.values() if "build" in s]
    assert built, "no service builds the image"
    for service in built:
        value = service["build"]["args"]["GIT_SHA"]
        assert re.fullmatch(r"\$\{GIT_SHA:\?.+\}", value), value  # required, never defaulted


def test_the_worker_fingerprint_reads_the_baked_variable() -> None:
    baked = Settings.from_env({"STRATGATE_HOME": "/tmp/x", "STRATGATE_GIT_SHA": "0a1b2c3d4e5f"})
    assert fingerprint(baked).git_sha == "0a1b2c3d4e5f"
    # Without it (and with git), the worker reads the checkout's commit, never a made-up one.
    unset = fingerprint(Settings.from_env({"STRATGATE_HOME": "/tmp/x"})).git_sha
    assert unset != "0a1b2c3d4e5f" and re.fullmatch(r"[0-9a-f]{12}|unknown", unset)
