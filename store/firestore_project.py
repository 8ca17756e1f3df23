"""Which Google Cloud project a Firestore client talks to.

`FIRESTORE_PROJECT`, else the Google client's own resolution (`GOOGLE_CLOUD_PROJECT`, then the
application default credentials' project). Never a made-up default in production: a store that
guessed a project would write the tenant's records somewhere nobody reads them. Only the local
emulator, where every project is a scratch namespace, gets one.
"""

from __future__ import annotations

import os

from settings import Settings

EMULATOR_PROJECT = "stratgate-local"


class NoFirestoreProject(ValueError):
    pass


def firestore_project(settings: Settings) -> str:
    if settings.firestore_project:
        return settings.firestore_project
    if settings.firestore_emulator_host:
        return EMULATOR_PROJECT
    named = os.environ.get("GOOGLE_CLOUD_PROJECT")
    if named:
        return named
    import google.auth  # the credentials' project; only a production start gets here
    from google.auth.exceptions import DefaultCredentialsError

    try:
        _, project = google.auth.default()
    except DefaultCredentialsError as exc:
        raise NoFirestoreProject(
            "FIRESTORE_PROJECT: not set, and no project from GOOGLE_CLOUD_PROJECT or the "
            f"application default credentials ({' '.join(str(exc).split())[:160]}); set "
            "FIRESTORE_PROJECT to the Firestore project id"
        ) from exc
    if not project:
        raise NoFirestoreProject(
            "FIRESTORE_PROJECT: not set, and neither GOOGLE_CLOUD_PROJECT nor the application "
            "default credentials name a project; set FIRESTORE_PROJECT to the Firestore project id"
        )
    return str(project)
