"""The tunnel catalog: only well-formed local addresses are kept."""

from __future__ import annotations

import pytest

from services.common.profiles import TunnelSpec
from services.tunnel.catalog import build_catalog, is_loopback, parse_local_address


def test_an_https_address_is_parsed() -> None:
    target = parse_local_address("https://127.0.0.1:8443")

    assert (target.scheme, target.host, target.port) == ("https", "127.0.0.1", 8443)
    assert target.tls
    assert target.loopback


def test_default_ports() -> None:
    assert parse_local_address("https://[::1]").port == 443
    assert parse_local_address("http://localhost").port == 80


@pytest.mark.parametrize(
    "address",
    ["ftp://127.0.0.1", "https://u:p@127.0.0.1", "https://127.0.0.1/admin", "nonsense"],
)
def test_an_unusable_address_is_refused(address: str) -> None:
    with pytest.raises(ValueError, match=r"address|host"):
        parse_local_address(address)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.9.9.9", True),
        ("::1", True),
        ("localhost", True),
        ("10.0.0.1", False),
        ("example.com", False),
    ],
)
def test_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_bad_tunnels_are_left_out_with_a_reason() -> None:
    catalog = build_catalog(
        [
            TunnelSpec("pbx", "admin", "https://127.0.0.1:443", "Admin"),
            TunnelSpec("pbx", "admin", "https://127.0.0.1:444", "Twice"),
            TunnelSpec("pbx", "Bad Name", "https://127.0.0.1:443", ""),
            TunnelSpec("pbx", "ftp", "ftp://127.0.0.1", ""),
        ]
    )

    assert [t.key for t in catalog.tunnels] == [("pbx", "admin")]
    assert "listed twice" in catalog.problem
    assert "not a valid tunnel name" in catalog.problem
    assert "ftp://" in catalog.problem
