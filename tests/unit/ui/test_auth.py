"""Login, logout, the login check, CSRF and the session cookie."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from services.common.config import Config
from services.common.settings import load
from services.ui import accounts
from services.ui.app import create_app
from tests.unit.ui.conftest import PASSWORD, USER

LogIn = Callable[..., TestResponse]
Post = Callable[..., TestResponse]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/cld/"),
        ("GET", "/cld/link/callback?code=abc&state=xyz"),
        ("POST", "/cld/link"),
        ("POST", "/cld/unlink"),
        ("POST", "/cld/view"),
        ("POST", "/cld/logout"),
    ],
)
def test_every_page_and_action_asks_for_a_login_first(
    client: FlaskClient, method: str, path: str
) -> None:
    response = client.open(path, method=method)

    assert response.status_code == 302
    assert response.location.startswith("http://localhost/cld/login")


def test_the_login_page_comes_back_to_the_page_asked_for(
    client: FlaskClient, user: str, log_in: LogIn
) -> None:
    response = client.get("/cld/?view=x")
    assert response.location == "http://localhost/cld/login?next=/cld/?view%3Dx"

    logged_in = log_in(client, next="/cld/?view=x")

    assert logged_in.status_code == 303
    assert logged_in.location == "/cld/?view=x"


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/cld/", "/elsewhere", "/cld\\..\\x"],
)
def test_a_login_never_sends_the_browser_off_the_dashboard(
    client: FlaskClient, user: str, log_in: LogIn, target: str
) -> None:
    response = log_in(client, next=target)

    assert response.status_code == 303
    assert response.location == "/cld/"


def test_health_and_the_stylesheet_need_no_login(client: FlaskClient) -> None:
    health = client.get("/cld/healthz")
    style = client.get("/cld/static/style.css")

    assert health.status_code == 200
    assert health.json == {"status": "ok"}
    assert style.status_code == 200
    assert style.mimetype == "text/css"
    style.close()


def test_the_root_sends_the_browser_to_the_dashboard(client: FlaskClient) -> None:
    response = client.get("/")

    assert response.status_code == 302
    assert response.location == "/cld/"


def test_a_wrong_password_says_so(
    client: FlaskClient, user: str, log_in: LogIn
) -> None:
    response = log_in(client, password="not the password")

    assert response.status_code == 401
    assert "Wrong username or password" in response.get_data(as_text=True)
    assert client.get("/cld/").status_code == 302


def test_an_unknown_user_gets_the_same_answer(
    client: FlaskClient, user: str, log_in: LogIn
) -> None:
    response = log_in(client, username="mallory")

    assert response.status_code == 401
    assert "Wrong username or password" in response.get_data(as_text=True)


def test_a_login_opens_the_dashboard(
    client: FlaskClient, user: str, log_in: LogIn
) -> None:
    response = log_in(client)

    assert response.status_code == 303
    assert response.location == "/cld/"
    page = client.get("/cld/").get_data(as_text=True)
    assert f"Logged in as {USER}" in page
    assert "CloudLink Registration" in page


def test_five_failures_for_a_username_refuse_even_the_right_password(
    client: FlaskClient, user: str, log_in: LogIn
) -> None:
    for attempt in range(5):
        client.environ_base["REMOTE_ADDR"] = f"10.1.1.{attempt}"
        assert log_in(client, password="wrong password").status_code == 401

    client.environ_base["REMOTE_ADDR"] = "10.1.1.99"
    refused = log_in(client)

    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "Too many failed logins" in refused.get_data(as_text=True)
    assert client.get("/cld/").status_code == 302


def test_five_failures_from_an_address_refuse_other_usernames_too(
    client: FlaskClient, user: str, log_in: LogIn
) -> None:
    client.environ_base["REMOTE_ADDR"] = "10.2.2.2"

    for name in ("bob", "carol", "dave", "erin", "frank"):
        assert log_in(client, username=name).status_code == 401

    assert log_in(client).status_code == 429

    client.environ_base["REMOTE_ADDR"] = "10.3.3.3"
    assert log_in(client).status_code == 303


def test_a_form_without_its_csrf_token_is_refused(
    client: FlaskClient, user: str
) -> None:
    response = client.post("/cld/login", data={"username": USER, "password": PASSWORD})

    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert client.get("/cld/").status_code == 302


def test_an_action_without_its_csrf_token_is_refused(logged_in: FlaskClient) -> None:
    response = logged_in.post("/cld/unlink")

    assert response.status_code == 400


def test_the_csrf_page_explains_secure_cookies_over_plain_http(
    tmp_path: Path,
) -> None:
    (tmp_path / "run").mkdir()
    config = load(
        Config,
        {
            "CLD_STATE_DIR": str(tmp_path / "state"),
            "CLD_RUNTIME_DIR": str(tmp_path / "run"),
        },
    )
    client = create_app(config).test_client()

    page = client.post("/cld/login", data={"username": "a", "password": "b"})

    assert page.status_code == 400
    assert "CLD_UI_SECURE_COOKIES" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    "path", ["/cld/link", "/cld/unlink", "/cld/logout", "/cld/view"]
)
def test_actions_refuse_get(logged_in: FlaskClient, path: str) -> None:
    response = logged_in.get(path)

    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]


def test_logout_ends_the_session(logged_in: FlaskClient, post: Post) -> None:
    response = post(logged_in, "/cld/logout")

    assert response.status_code == 303
    assert response.location == "/cld/login"
    assert "You are logged out." in logged_in.get("/cld/login").get_data(as_text=True)
    assert logged_in.get("/cld/").status_code == 302


def test_removing_the_account_ends_its_sessions(
    logged_in: FlaskClient, config: Config
) -> None:
    accounts.remove(config.users_file(), USER)

    assert logged_in.get("/cld/").status_code == 302


def test_an_account_added_again_does_not_inherit_old_sessions(
    logged_in: FlaskClient, config: Config
) -> None:
    accounts.remove(config.users_file(), USER)
    accounts.add(config.users_file(), USER, "another password")

    assert logged_in.get("/cld/").status_code == 302


def test_the_session_cookie_is_scoped_and_protected(
    client: FlaskClient, user: str, log_in: LogIn
) -> None:
    log_in(client)

    cookie = client.get_cookie("cld_session", path="/cld")

    assert cookie is not None
    assert cookie.http_only
    assert cookie.same_site == "Lax"
    assert not cookie.secure


def test_secure_cookies_are_marked_secure(app: Flask, config: Config) -> None:
    app.config["SESSION_COOKIE_SECURE"] = True
    client = app.test_client()

    client.get("/cld/login", base_url="https://localhost")
    cookie = client.get_cookie("cld_session", domain="localhost", path="/cld")

    assert cookie is not None
    assert cookie.secure
