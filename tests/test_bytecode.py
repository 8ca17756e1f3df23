"""bench/bytecode.py compiles every module pyproject.toml installs, so a benchmark's fresh
processes read bytecode as an installed stratgate does, whatever was edited since `make`."""

from __future__ import annotations

import importlib.util
import os
import tomllib
from pathlib import Path

from bench.bytecode import ROOT, byte_compile


def _installed_sources() -> list[Path]:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    sources = [ROOT / f"{m}.py" for m in setuptools["py-modules"]]
    for pattern in setuptools["packages"]["find"]["include"]:
        sources += sorted((ROOT / pattern.rstrip("*")).rglob("*.py"))
    return sources


def _fresh(source: Path) -> bool:
    cached = Path(importlib.util.cache_from_source(str(source)))
    if not cached.exists():
        return False
    # A timestamp pyc's header: magic, flags, the source's mtime and size (PEP 552).
    header = cached.read_bytes()[:16]
    stat = source.stat()
    return (
        header[:4] == importlib.util.MAGIC_NUMBER
        and int.from_bytes(header[8:12], "little") == int(stat.st_mtime) & 0xFFFFFFFF
        and int.from_bytes(header[12:16], "little") == stat.st_size & 0xFFFFFFFF
    )


def test_every_installed_module_is_compiled_fresh() -> None:
    sources = _installed_sources()
    assert len(sources) > 100  # the whole project, not a package pattern that matched nothing
    # `make` compiled them all before the tests: make one module of each package (and a
    # top-level one) stale, as an edit would, so only byte_compile can make them fresh again.
    edited = {s.parent: s for s in sources}.values()
    for source in edited:
        stat = source.stat()
        os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    assert not any(_fresh(s) for s in edited)
    byte_compile()
    stale = [str(s.relative_to(ROOT)) for s in sources if not _fresh(s)]
    assert stale == []
