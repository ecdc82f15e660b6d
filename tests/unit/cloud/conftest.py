"""Fixtures building the real emulator app with test settings in tmp_path."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from cloud.app import create_app
from cloud.config import CloudConfig
from services.common.settings import load

PUBLIC_URL = "http://cloud.test"
ACME = "63d797da-b7b3-4883-9d49-e830bb7d7be6"
GLOBEX = "28e6e451-8ac3-4088-ad5f-2f9c26957ff2"


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def config(state_dir: Path) -> CloudConfig:
    return load(
        CloudConfig,
        {
            "CLD_CLOUD_STATE_DIR": str(state_dir),
            "CLD_CLOUD_PUBLIC_URL": PUBLIC_URL,
            "CLD_CLOUD_TOKEN_TTL": "60",
        },
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(config: CloudConfig, clock: FakeClock) -> Flask:
    app = create_app(config, clock)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def token(client: FlaskClient) -> Callable[..., TestResponse]:
    """Posts to the token endpoint as JSON."""

    def post(**fields: Any) -> TestResponse:
        return client.post("/2017-09-01/token", json=fields)

    return post


@pytest.fixture
def sign_in(token: Callable[..., TestResponse]) -> Callable[..., dict[str, Any]]:
    """A password grant that must succeed; returns the token answer."""

    def grant(username: str, password: str, **extra: str) -> dict[str, Any]:
        response = token(
            grant_type="password", username=username, password=password, **extra
        )
        assert response.status_code == 200, response.json
        body: dict[str, Any] = response.json or {}
        return body

    return grant


@pytest.fixture
def admin_token(sign_in: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    return sign_in("admin@acme.example", "acme-admin-1")


@pytest.fixture
def link(client: FlaskClient) -> Callable[..., TestResponse]:
    """Registers a system with an access token."""

    def post(access_token: str, **body: Any) -> TestResponse:
        body.setdefault("installationId", str(uuid.uuid4()))
        return client.post(
            "/2017-09-01/systems",
            json=body,
            headers={"Authorization": f"Bearer {access_token}"},
        )

    return post


@pytest.fixture
def pkce() -> tuple[str, str]:
    """A code verifier and its S256 challenge, computed independently."""

    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _hidden(page: TestResponse, name: str) -> str:
    html = page.get_data(as_text=True)
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"the page has no hidden field {name}"
    return found.group(1)


@pytest.fixture
def hidden() -> Callable[[TestResponse, str], str]:
    """Reads a hidden form field (csrf_token, pending) from a page."""

    return _hidden
