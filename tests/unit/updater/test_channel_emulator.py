"""The emulator's update channel: publishing, serving, ranges, access."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from flask.testing import FlaskClient

from cloud.app import create_app
from cloud.config import CloudConfig
from services.common.settings import load
from services.updater.manifest import Artifact, manifest_document, sign
from services.updater.versions import ReleaseVersion

BASE = "/2017-09-01/releases"
WHEEL = bytes(range(256)) * 40


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    config = load(
        CloudConfig,
        {"CLD_CLOUD_STATE_DIR": str(tmp_path), "CLD_CLOUD_PUBLIC_URL": "http://c.test"},
    )
    app = create_app(config)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def bearer(client: FlaskClient) -> dict[str, str]:
    answer = client.post(
        "/2017-09-01/token",
        json={
            "grant_type": "password",
            "username": "admin@acme.example",
            "password": "acme-admin-1",
        },
    )
    return {"Authorization": f"Bearer {answer.json['access_token']}"}  # type: ignore[index]


def envelope(version: str = "0.2.0", build: str = "3", **changes: Any) -> dict:
    artifact = Artifact(
        name="d.whl",
        size=len(WHEEL),
        sha256=hashlib.sha256(WHEEL).hexdigest(),
        url=f"http://c.test{BASE}/stable/{version}+{build}/artifacts/d.whl",
    )
    document = manifest_document(
        ReleaseVersion(version, build), "c0ffee", "stable", "", [artifact]
    )
    return sign({**document, **changes}, Ed25519PrivateKey.generate())


def publish(client: FlaskClient, version: str = "0.2.0", build: str = "3") -> dict:
    put = client.put(f"{BASE}/stable/{version}+{build}/artifacts/d.whl", data=WHEEL)
    assert put.status_code == 201, put.json
    signed = envelope(version, build)
    answer = client.post(f"{BASE}/stable", json=signed)
    assert answer.status_code == 201, answer.json
    return signed


def test_the_latest_published_release_is_served(
    client: FlaskClient, bearer: dict
) -> None:
    publish(client, "0.2.0", "3")
    newest = publish(client, "0.3.0", "4")

    served = client.get(f"{BASE}/stable/latest", headers=bearer)

    assert served.status_code == 200
    assert served.json == newest


def test_an_empty_channel_is_not_found(client: FlaskClient, bearer: dict) -> None:
    answer = client.get(f"{BASE}/beta/latest", headers=bearer)

    assert answer.status_code == 404
    assert "Nothing is published on channel beta" in answer.json["error_description"]


def test_artifacts_are_served_whole_and_by_range(
    client: FlaskClient, bearer: dict
) -> None:
    publish(client)
    url = f"{BASE}/stable/0.2.0+3/artifacts/d.whl"

    with client.get(url, headers=bearer) as whole:
        assert whole.status_code == 200
        assert whole.data == WHEEL

    with client.get(url, headers={**bearer, "Range": "bytes=1000-"}) as rest:
        assert rest.status_code == 206
        assert rest.headers["Content-Range"] == (
            f"bytes 1000-{len(WHEEL) - 1}/{len(WHEEL)}"
        )
        assert rest.data == WHEEL[1000:]


def test_fetching_needs_a_valid_access_token(client: FlaskClient) -> None:
    publish(client)

    missing = client.get(f"{BASE}/stable/latest")
    forged = client.get(
        f"{BASE}/stable/0.2.0+3/artifacts/d.whl",
        headers={"Authorization": "Bearer eyJhbGciOiJub25lIn0.e30."},
    )

    assert missing.status_code == 401
    assert forged.status_code == 401
    assert forged.json["error"] == "invalid_token"


def test_publishing_is_for_the_emulators_host_only(client: FlaskClient) -> None:
    remote = {"REMOTE_ADDR": "192.0.2.10"}

    put = client.put(
        f"{BASE}/stable/0.2.0+3/artifacts/d.whl", data=WHEEL, environ_base=remote
    )
    post = client.post(f"{BASE}/stable", json=envelope(), environ_base=remote)

    assert put.status_code == post.status_code == 403
    assert "published from the emulator's host only" in post.json["error_description"]


def test_a_manifest_is_refused_until_its_artifacts_are_uploaded(
    client: FlaskClient,
) -> None:
    answer = client.post(f"{BASE}/stable", json=envelope())

    assert answer.status_code == 400
    assert "missing: d.whl" in answer.json["error_description"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"signatures": []}, "must be a release envelope"),
        ({"payload": "!!", "signatures": [{}]}, "cannot be read"),
        (envelope(channel="beta"), "for channel beta, not stable"),
        ({**envelope(), "signatures": []}, "carries no signature"),
    ],
)
def test_bad_envelopes_are_refused_clearly(
    client: FlaskClient, body: dict, reason: str
) -> None:
    answer = client.post(f"{BASE}/stable", json=body)

    assert answer.status_code == 400
    assert reason in answer.json["error_description"]


@pytest.mark.parametrize(
    "path",
    [
        f"{BASE}/stable/latest-ish/artifacts/d.whl",
        f"{BASE}/stable/0.2.0+3/artifacts/.hidden",
        f"{BASE}/Stable/0.2.0+3/artifacts/d.whl",
    ],
)
def test_bad_names_in_paths_are_refused(client: FlaskClient, path: str) -> None:
    assert client.put(path, data=b"x").status_code == 400
