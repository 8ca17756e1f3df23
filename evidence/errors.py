"""Refusals of evidence: a file names the row and the column, a document its path and field."""

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


class EvidenceDocumentError(GovernanceError):
    """A platform document (a shadow trade, a paper order) that cannot be read as evidence."""

    code = "evidence_document"

    def __init__(self, path: str, field: str, reason: str):
        self.path, self.document_field = path, field
        super().__init__(f"{path}: field {field!r}: {reason}", field=field)
