"""Firestore's project: FIRESTORE_PROJECT, else the Google client's own resolution, never a
made-up default; a production store with none refuses to start, naming the variable."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from settings import Settings
from store.factory import open_store
from store.firestore_project import EMULATOR_PROJECT, NoFirestoreProject, firestore_project
from tests.cli.support import sg

# Nothing of this machine's own Google set-up (gcloud config, metadata server) may answer.
GOOGLE_ENV = ("GOOGLE_CLOUD_PROJECT", "GOOGLE_APPLICATION_CREDENTIALS", "GCLOUD_PROJECT")


@pytest.fixture
def bare_google(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in (*GOOGLE_ENV, "FIRESTORE_PROJECT", "FIRESTORE_EMULATOR_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    return tmp_path


def settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env(
        {"STRATGATE_HOME": str(tmp_path), "STRATGATE_STORE": "firestore", **env}
    )


def service_account(path: Path, project: str) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": project,
                "private_key_id": "k1",
                "private_key": pem,
                "client_email": f"sg@{project}.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )
    return path


def test_firestore_project_wins(bare_google: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "from-google")
    assert firestore_project(settings(bare_google, FIRESTORE_PROJECT="named")) == "named"


def test_else_google_cloud_project(bare_google: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "from-google")
    assert firestore_project(settings(bare_google)) == "from-google"


def test_else_the_application_default_credentials(
    bare_google: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = service_account(bare_google / "sa.json", "adc-project")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
    assert firestore_project(settings(bare_google)) == "adc-project"


def test_no_project_refuses_naming_the_variable(bare_google: Path) -> None:
    with pytest.raises(NoFirestoreProject, match="FIRESTORE_PROJECT"):
        firestore_project(settings(bare_google))
    with pytest.raises(NoFirestoreProject, match="FIRESTORE_PROJECT"):
        open_store(settings(bare_google))  # the store does not start


def test_only_the_emulator_gets_a_default(bare_google: Path) -> None:
    emulated = settings(bare_google, FIRESTORE_EMULATOR_HOST="127.0.0.1:1")
    assert firestore_project(emulated) == EMULATOR_PROJECT
    assert Settings.from_env({}).firestore_project is None


def test_the_cli_refuses_to_start_naming_the_variable(
    bare_google: Path, firestore_emulator_host: str
) -> None:
    home = bare_google / "home"
    listing = ("records", "list", "--tenant", "demo", "--json")
    result = sg(home, *listing, STRATGATE_STORE="firestore")
    assert result.returncode == 2, (result.stdout, result.stderr)
    # Under --json the refusal is the API's error body, on stdout, naming the variable.
    refusal = json.loads(result.stdout)
    assert refusal["field"] == "FIRESTORE_PROJECT", refusal
    assert refusal["message"].startswith("FIRESTORE_PROJECT: not set"), refusal
    assert "GOOGLE_CLOUD_PROJECT" in refusal["message"]
    plain = sg(home, *listing[:-1], STRATGATE_STORE="firestore")
    assert plain.stderr.startswith("error: FIRESTORE_PROJECT: not set"), plain.stderr
    named = sg(
        home,
        *listing,
        STRATGATE_STORE="firestore",
        FIRESTORE_PROJECT=f"p-{uuid.uuid4().hex[:6]}",
        FIRESTORE_EMULATOR_HOST=firestore_emulator_host,
    )
    assert named.returncode == 0 and json.loads(named.stdout) == [], named.stderr
