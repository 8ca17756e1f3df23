"""Writes an evidence pack to a directory: one JSON file per section, the whole pack, a manifest
of their hashes, and one self-contained HTML summary (inline CSS and SVG charts, no network)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from governance.audit_assessment import AuditPack

TEMPLATES = Path(__file__).parent / "templates"
SUMMARY = "summary.html"


def _json(data: Any) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def render_html(pack: AuditPack) -> str:
    from reports.charts import all_charts  # matplotlib only when a pack is rendered

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    return env.get_template("audit_pack.html").render(
        p=pack,
        s=pack.sections,
        figures=pack.figures.model_dump(mode="json"),
        charts=all_charts(pack),
    )


def write_pack(pack: AuditPack, out: Path) -> list[Path]:
    """The files written, manifest last. An existing non-empty directory is refused by the
    caller (a pack is never merged into another)."""
    out.mkdir(parents=True, exist_ok=True)
    data = pack.model_dump(mode="json")
    files: dict[str, bytes] = {"pack.json": _json(data)}
    for name, section in data["sections"].items():
        files[f"{name}.json"] = _json(section)
    files["self_assessment.json"] = _json(
        {"figures": data["figures"], "items": data["self_assessment"]}
    )
    files[SUMMARY] = render_html(pack).encode()
    written = []
    for name, content in files.items():
        (out / name).write_bytes(content)
        written.append(out / name)
    manifest = {
        "tenant_id": pack.tenant_id,
        "period": data["period"],
        "generated_at": data["generated_at"],
        "files": {name: hashlib.sha256(content).hexdigest() for name, content in files.items()},
    }
    (out / "manifest.json").write_bytes(_json(manifest))
    written.append(out / "manifest.json")
    return written
