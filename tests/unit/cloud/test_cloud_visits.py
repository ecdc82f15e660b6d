"""One-time codes from the admin page, traded by the relay for a visitor token."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cloud import visits
from cloud.config import CloudConfig
from cloud.emulator import Emulator
from services.common.settings import ConfigError, load
from services.tunnel.messages import public_label
from tests.unit.cloud.conftest import ACME

SYSTEM = "3f0c7d1e-0000-4000-8000-000000000001"
REDEEM = "/2017-09-01/relay/visits"


def _entry(app: Flask, component: str = "pbx", name: str = "admin") -> tuple[str, str]:
    """The entry URL for the Acme admin, and the code in it."""

    with app.test_request_context():
        em: Emulator = app.extensions["cloud"]
        user = next(
            u for u in em.seed.users.values() if u.email == "admin@acme.example"
        )
        url = visits.entry_url(user, SYSTEM, component, name)

    return url, parse_qs(urlsplit(url).query)["code"][0]


def test_the_entry_link_leads_to_the_tunnels_host_at_the_relay(app: Flask) -> None:
    url, code = _entry(app)
    label = public_label(SYSTEM, "pbx", "admin")

    assert url.startswith(f"http://{label}.eu.relay.localhost:8802/.cld-relay/enter?")
    assert len(code) > 30


def test_a_code_is_traded_once_for_a_token_of_the_users_account(
    app: Flask, client: FlaskClient
) -> None:
    _, code = _entry(app)
    label = public_label(SYSTEM, "pbx", "admin")

    answer = client.post(REDEEM, json={"code": code, "label": label})
    again = client.post(REDEEM, json={"code": code, "label": label})

    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    claims = app.extensions["cloud"].verifier.verify(answer.get_json()["access_token"])
    assert claims["accountId"] == ACME
    assert again.status_code == 400
    assert again.get_json()["error"] == "invalid_grant"


def test_a_code_shown_at_another_tunnels_host_is_refused_and_spent(
    app: Flask, client: FlaskClient
) -> None:
    _, code = _entry(app)
    other = public_label(SYSTEM, "pbx", "other")
    label = public_label(SYSTEM, "pbx", "admin")

    assert client.post(REDEEM, json={"code": code, "label": other}).status_code == 400
    assert client.post(REDEEM, json={"code": code, "label": label}).status_code == 400


def test_a_redeem_without_code_or_label_is_a_bad_request(client: FlaskClient) -> None:
    answer = client.post(REDEEM, json={"code": "x"})

    assert answer.status_code == 400
    assert answer.get_json()["error_description"] == "A code and a label are required"


def test_a_relay_url_without_a_label_is_refused_naming_the_variable() -> None:
    with pytest.raises(ConfigError, match=r"CLD_CLOUD_RELAY_URL='http://relay\.test'"):
        load(CloudConfig, {"CLD_CLOUD_RELAY_URL": "http://relay.test"})
