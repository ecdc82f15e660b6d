"""The trusted reverse-proxy header mode, beside local accounts."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from prometheus_client import CollectorRegistry

from services.common.config import Config
from services.common.settings import ConfigError, load
from services.ui.app import create_app
from services.ui.auth import check_header
from tests.unit.ui.conftest import PROXY

HEADER = "X-Remote-User"


@pytest.fixture
def proxied(config: Config) -> FlaskClient:
    """A dashboard that believes HEADER from the test's trusted proxies."""

    settings = load(
        Config,
        {
            "CLD_HOST_ROOT": str(config.host_root),
            "CLD_STATE_DIR": str(config.state_dir),
            "CLD_RUNTIME_DIR": str(config.runtime_dir),
            "CLD_UI_SECURE_COOKIES": "false",
            "CLD_UI_TRUSTED_PROXIES": PROXY,
            "CLD_UI_AUTH_HEADER": HEADER,
        },
    )
    app = create_app(settings, registry=CollectorRegistry())
    app.config["TESTING"] = True
    return app.test_client()


def test_a_user_the_trusted_proxy_names_is_logged_in(proxied: FlaskClient) -> None:
    proxied.environ_base["REMOTE_ADDR"] = PROXY

    response = proxied.get("/cld/", headers={HEADER: "carol@pbx"})
    page = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "Logged in as carol@pbx" in page

    # The host logs its users out; a button here could not.
    assert "Log out" not in page


def test_the_header_from_anyone_else_is_ignored(proxied: FlaskClient) -> None:
    proxied.environ_base["REMOTE_ADDR"] = "10.0.0.8"

    response = proxied.get("/cld/", headers={HEADER: "carol"})

    assert response.status_code == 302
    assert "/cld/login" in response.location


def test_without_the_header_the_login_form_is_still_there(proxied: FlaskClient) -> None:
    proxied.environ_base["REMOTE_ADDR"] = PROXY

    response = proxied.get("/cld/panels")

    assert response.status_code == 401


def test_a_name_that_is_no_account_name_is_refused(proxied: FlaskClient) -> None:
    proxied.environ_base["REMOTE_ADDR"] = PROXY

    response = proxied.get("/cld/", headers={HEADER: "<script>"})

    assert response.status_code == 403
    assert "<script>" not in response.get_data(as_text=True)


def test_actions_still_need_the_forms_csrf_token(proxied: FlaskClient) -> None:
    proxied.environ_base["REMOTE_ADDR"] = PROXY
    headers = {HEADER: "carol"}

    refused = proxied.post("/cld/view", data={"view": "debug"}, headers=headers)
    assert refused.status_code == 400

    page = proxied.get("/cld/", headers=headers).get_data(as_text=True)
    token = re.findall(r'name="csrf_token" value="([^"]+)"', page)[0]
    switched = proxied.post(
        "/cld/view", data={"view": "debug", "csrf_token": token}, headers=headers
    )
    assert switched.status_code == 303
    assert "Switch to standard view" in proxied.get("/cld/", headers=headers).get_data(
        as_text=True
    )


@pytest.mark.parametrize(
    ("header", "proxies", "problem"),
    [
        ("X Remote User", "10.0.0.7", "letters, digits"),
        ("X-Remote-User", "", "needs CLD_UI_TRUSTED_PROXIES"),
    ],
)
def test_a_header_setting_that_cannot_work_names_its_variable(
    header: str, proxies: str, problem: str
) -> None:
    with pytest.raises(ConfigError, match="CLD_UI_AUTH_HEADER") as raised:
        check_header(header, proxies)

    assert problem in str(raised.value)


def test_no_header_setting_is_local_accounts_only() -> None:
    check_header("", "")
