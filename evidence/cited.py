"""Exactly the evidence a record cites, each file found by its id and hash and checked.

A replay must read what the decision read, not what the strategy holds today: files ingested
since are left out, and each cited file is checked before it is read. A stored file is named by
the hash of the file that was submitted (ingest) or of its own content (written columns); where
the two differ the content's hash is kept beside it (`.digests/`), so an edited file is told
from an intact one. An altered signal file is summarised from its rows as they are now, never
from the summaries kept for the original.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evidence.files import DIGESTS, FIELD, FileEvidenceSource, _columns
from evidence.partials import FileSignalSummary, partials, summarise_file
from governance.evidence_columns import EvidenceBundle
from governance.metrics.signal_days import DayStats
from governance.records import EvidenceRef
from governance.replay import CitedFile, FileStatus

FILE_KINDS = frozenset(FIELD.values())


def check_file(path: Path, ref: EvidenceRef) -> CitedFile:
    def cited(status: FileStatus, reason: str) -> CitedFile:
        return CitedFile(kind=ref.kind, id=ref.id, sha256=ref.sha256, status=status, reason=reason)

    if not path.is_file():
        return cited(FileStatus.MISSING, f"no file {ref.kind}/{path.name} in the evidence store")
    with path.open("rb") as f:
        content = hashlib.file_digest(f, "sha256").hexdigest()
    kept = path.parent / DIGESTS / f"{path.name}.sha256"
    if not kept.is_file():
        if content == ref.sha256:
            return cited(FileStatus.VERIFIED, "content hashes to the cited sha256")
        return cited(
            FileStatus.UNVERIFIED,
            "named by the submitted file's hash; no digest of its stored content was kept "
            "(ingested before digests were), so only the recomputation checks it",
        )
    expected = kept.read_text().strip()
    if content == expected:
        return cited(FileStatus.VERIFIED, "content hashes to the digest kept when it was stored")
    return cited(
        FileStatus.ALTERED,
        f"content hashes to {content[:16]}…, the digest kept when it was stored is "
        f"{expected[:16]}…: the file was changed after the decision",
    )


def _opener(usable: list[tuple[Path, CitedFile]]) -> Callable[[Path], list[DayStats]]:
    """Kept summaries for verified files; rows as they are now for any other."""
    unchecked = {p for p, c in usable if c.status != FileStatus.VERIFIED}
    return lambda p: summarise_file(p) if p in unchecked else partials(p)


def open_cited(
    source: FileEvidenceSource,
    tenant_id: str,
    uid: str,
    strategy_id: str,
    refs: list[EvidenceRef],
    verify: bool = True,
) -> tuple[EvidenceBundle, list[CitedFile]]:
    """The cited files as the report reads them (`FileEvidenceSource.open`'s form), and what
    was found for each. `verify=False` skips hashing the files (the what-if reads many)."""
    checks: list[CitedFile] = []
    by_kind: dict[str, list[tuple[Path, CitedFile]]] = {}
    for ref in refs:
        if ref.kind not in FILE_KINDS:
            continue
        path = source.folder(tenant_id, uid, strategy_id, ref.kind) / f"{ref.sha256}.parquet"
        if verify:
            check = check_file(path, ref)
        elif path.is_file():
            check = CitedFile(
                kind=ref.kind, id=ref.id, sha256=ref.sha256, status=FileStatus.UNVERIFIED
            )
        else:
            check = CitedFile(
                kind=ref.kind,
                id=ref.id,
                sha256=ref.sha256,
                status=FileStatus.MISSING,
                reason=f"no file {ref.kind}/{path.name} in the evidence store",
            )
        checks.append(check)
        by_kind.setdefault(ref.kind, []).append((path, check))
    parts: dict[str, Any] = {}
    kept: list[EvidenceRef] = []
    summary = None
    for name, kind in FIELD.items():
        # In the order every reader takes them (by name), as `open` does.
        usable = sorted((p, c) for p, c in by_kind.get(kind, []) if c.usable)
        if not usable:
            continue
        files = [p for p, _ in usable]
        if kind == "signal_evaluations":
            summary = FileSignalSummary(files, opener=_opener(usable))
        else:
            parts[name] = _columns(kind, files)
        kept += [EvidenceRef(kind=kind, id=p.stem[:16], sha256=p.stem) for p in files]
    return EvidenceBundle(**parts, refs=kept, signal_summary=summary), checks
