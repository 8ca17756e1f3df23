"""Choose the adapters from settings: the GovernanceStore (`STRATGATE_STORE`) and the
EvidenceSource (`STRATGATE_EVIDENCE_SOURCE`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from settings import Settings
from store.port import GovernanceStore

if TYPE_CHECKING:  # the evidence stack (pyarrow) is imported only by who reads evidence
    from evidence.files import EvidenceSource


def open_store(settings: Settings) -> GovernanceStore:
    if settings.store == "firestore":
        from store.firestore import FirestoreStore  # only production needs the Google client

        return FirestoreStore.from_settings(settings)
    from store.sqlite import SqliteStore

    return SqliteStore(settings.db_path)


def open_evidence_source(settings: Settings) -> EvidenceSource:
    """Files under the evidence dir; with `firestore`, shadow trades and paper orders from the
    platform's collections (signal evaluations and risk events still from files)."""
    from evidence.files import FileEvidenceSource

    files = FileEvidenceSource(settings.evidence_dir)
    if settings.evidence_source == "firestore":
        from evidence.platform import PlatformEvidenceSource
        from store.firestore_evidence import FirestoreDocuments

        return PlatformEvidenceSource(files, FirestoreDocuments.from_settings(settings))
    return files
