"""Fixtures building the real dashboard app with test settings in tmp_path."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import CollectorRegistry
from werkzeug.test import TestResponse

from services.common.config import Config
from services.common.settings import load
from services.common.state import StateStore
from services.ui import accounts
from services.ui.app import create_app
from services.ui.live import LiveState

USER = "alice"
PASSWORD = "correct horse battery"
PROXY = "10.0.0.7"


@pytest.fixture
def config(tmp_path: Path) -> Config:
    # The runtime folder exists but nothing listens in it: every call to the
    # registration service meets a real gRPC "unavailable".
    (tmp_path / "run").mkdir()
    (tmp_path / "host").mkdir()
    return load(
        Config,
        {
            # An empty host: no platform is detected, no language read.
            "CLD_HOST_ROOT": str(tmp_path / "host"),
            "CLD_STATE_DIR": str(tmp_path / "state"),
            "CLD_RUNTIME_DIR": str(tmp_path / "run"),
            "CLD_UI_SECURE_COOKIES": "false",
            "CLD_UI_TRUSTED_PROXIES": f"{PROXY},192.168.50.0/24",
        },
    )


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def live() -> LiveState:
    """The bus state the dashboard shows; tests put retained payloads in it."""

    return LiveState()


@pytest.fixture
def app(config: Config, registry: CollectorRegistry, live: LiveState) -> Flask:
    app = create_app(config, registry=registry, live=live)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="session")
def cheap_hash() -> str:
    """An argon2 hash of PASSWORD at the lowest cost.

    Verifying reads the cost from the hash, so a login in a test takes a
    millisecond instead of the tenth of a second the production cost takes.
    """

    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)


@pytest.fixture
def user(config: Config, cheap_hash: str) -> str:
    entry = {"hash": cheap_hash, "created": "2026-01-01T00:00:00+00:00"}
    StateStore(config.users_file()).save({"accounts": {USER: entry}})
    assert USER in accounts.load(config.users_file())
    return USER


def _csrf_token(page: TestResponse) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert found, "the page has no CSRF token"
    return found.group(1)


@pytest.fixture
def csrf() -> Callable[[FlaskClient, str], str]:
    """Reads the CSRF token from a page, as a browser's form would send it."""

    def token(client: FlaskClient, path: str = "/cld/login") -> str:
        return _csrf_token(client.get(path))

    return token


@pytest.fixture
def log_in(
    csrf: Callable[[FlaskClient, str], str],
) -> Callable[..., TestResponse]:
    """Posts the login form."""

    def post(
        client: FlaskClient,
        username: str = USER,
        password: str = PASSWORD,
        **extra: str,
    ) -> TestResponse:
        form = {
            "csrf_token": csrf(client, "/cld/login"),
            "username": username,
            "password": password,
            **extra,
        }
        return client.post("/cld/login", data=form)

    return post


@pytest.fixture
def logged_in(
    client: FlaskClient, user: str, log_in: Callable[..., TestResponse]
) -> FlaskClient:
    response = log_in(client)
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


@pytest.fixture
def post(
    csrf: Callable[[FlaskClient, str], str],
) -> Callable[..., TestResponse]:
    """Posts a dashboard form with the token its page carries."""

    def send(client: FlaskClient, path: str, **form: str) -> TestResponse:
        data = {"csrf_token": csrf(client, "/cld/"), **form}
        return client.post(path, data=data)

    return send
