"""Refusals of evidence files: each names the file, the row and the column."""

from __future__ import annotations

from pathlib import Path

from governance.errors import GovernanceError


class EvidenceSchemaError(GovernanceError):
    code = "evidence_schema"

    def __init__(self, file: Path, row: int | None, column: str | None, reason: str):
        self.file, self.row, self.column = file, row, column
        where = f"{file.name}" + (f" row {row}" if row is not None else "")
        where += f" column {column!r}" if column else ""
        super().__init__(f"{where}: {reason}", field=column)
