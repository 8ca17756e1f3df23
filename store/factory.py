"""Choose the GovernanceStore adapter from settings (`STRATGATE_STORE`)."""

from __future__ import annotations

from settings import Settings
from store.port import GovernanceStore


def open_store(settings: Settings) -> GovernanceStore:
    if settings.store == "firestore":
        from store.firestore import FirestoreStore  # only production needs the Google client

        return FirestoreStore.from_settings(settings)
    from store.sqlite import SqliteStore

    return SqliteStore(settings.db_path)
