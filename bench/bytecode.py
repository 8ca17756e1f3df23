"""The project's own modules byte-compiled before a benchmark starts its fresh processes.

An installed stratgate (`pip install .`, the image) has its bytecode written at install time, and
`make` writes it for the checkout. A benchmark run straight after editing a module would otherwise
time Python compiling it in every process it starts (PYTHONDONTWRITEBYTECODE, set on the dev VM,
keeps Python from caching it): ~80 ms per CLI command when the whole project is stale. The
packages are those pyproject.toml installs.
"""

from __future__ import annotations

import compileall
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def byte_compile() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    for pattern in setuptools["packages"]["find"]["include"]:
        compileall.compile_dir(ROOT / pattern.rstrip("*"), quiet=1)
    for module in setuptools["py-modules"]:
        compileall.compile_file(ROOT / f"{module}.py", quiet=1)
    compileall.compile_dir(ROOT / "bench", quiet=1)
