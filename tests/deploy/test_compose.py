"""docker-compose.yml against the Compose Specification schema (no Docker engine here)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import jsonschema
import yaml

from settings import ENV_NAMES

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = Path(sys.prefix, "share", "compose", "compose_spec.json")
# Variables read by the third-party images themselves.
IMAGE_ENV = {
    "POSTGRES_USER",
    "POSTGRES_PASSWORD",
    "POSTGRES_PWD",
    "POSTGRES_SEEDS",
    "DB",
    "DB_PORT",
    "TEMPORAL_ADDRESS",
    "BIND_HOST",
}


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_valid_against_the_compose_specification() -> None:
    assert SCHEMA.exists(), f"{SCHEMA} missing: `make test` fetches it"
    schema = json.loads(SCHEMA.read_text())
    # The spec names draft 2019-09 by an http URL jsonschema does not resolve: say it outright.
    validator = jsonschema.Draft201909Validator(schema)
    validator.check_schema(schema)
    validator.validate(compose())
    broken = compose()
    broken["services"]["worker"]["deploy"]["replicas"] = "two"
    assert not validator.is_valid(broken)  # the check can fail


def test_every_image_is_pinned() -> None:
    for name, service in compose()["services"].items():
        image = service.get("image")
        if image is None:
            assert "build" in service, name
            continue
        assert re.search(r":[\w.\-]+$", image) and not image.endswith(":latest"), (name, image)


def test_environment_names_exist_in_the_configuration() -> None:
    for name, service in compose()["services"].items():
        for key in service.get("environment") or {}:
            assert key in ENV_NAMES or key in IMAGE_ENV, (name, key)


def test_topology() -> None:
    services = compose()["services"]
    assert {"postgresql", "temporal", "temporal-ui", "firestore", "worker", "api"} <= set(services)
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["worker"]["environment"]["STRATGATE_STORE"] == "firestore"
    for name in ("postgresql", "temporal", "firestore", "api"):
        assert "healthcheck" in services[name], name
