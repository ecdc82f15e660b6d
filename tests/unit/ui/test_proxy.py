"""Forwarded headers believed from trusted proxies only."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from services.common.settings import ConfigError
from services.ui.proxy import trusted_networks
from tests.unit.ui.conftest import PROXY

FORWARDED = {
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "pbx.example",
    "X-Forwarded-Port": "443",
    "X-Forwarded-Prefix": "/admin",
    "X-Forwarded-For": "203.0.113.9",
}


@pytest.mark.parametrize("peer", [PROXY, "192.168.50.20", f"::ffff:{PROXY}"])
def test_a_trusted_proxy_decides_links_and_redirects(
    client: FlaskClient, peer: str
) -> None:
    client.environ_base["REMOTE_ADDR"] = peer

    response = client.get("/cld/", headers=FORWARDED)

    assert response.location.startswith("https://pbx.example/admin/cld/login?")
    assert "next=/admin/cld/" in response.location


def test_anyone_else_is_not_believed(client: FlaskClient) -> None:
    client.environ_base["REMOTE_ADDR"] = "192.168.51.20"

    response = client.get("/cld/", headers=FORWARDED)

    assert response.location.startswith("http://localhost/cld/login?")


def test_the_cookie_follows_the_forwarded_prefix(client: FlaskClient) -> None:
    client.environ_base["REMOTE_ADDR"] = PROXY

    response = client.get("/cld/login", headers=FORWARDED)

    assert "Path=/admin/cld;" in response.headers["Set-Cookie"]


def test_the_list_takes_addresses_and_networks() -> None:
    networks = trusted_networks(" 10.0.0.1, 192.168.0.0/16,::1 ,")

    assert [str(n) for n in networks] == ["10.0.0.1/32", "192.168.0.0/16", "::1/128"]
    assert trusted_networks("") == ()


@pytest.mark.parametrize("raw", ["proxy.example", "10.0.0.1/8", "10.0.0.256"])
def test_a_bad_entry_names_the_variable(raw: str) -> None:
    with pytest.raises(ConfigError, match="CLD_UI_TRUSTED_PROXIES"):
        trusted_networks(raw)
