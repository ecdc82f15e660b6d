"""The tunnel catalog: only well-formed local addresses are kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.common.config import Config
from services.common.profiles import TunnelSpec
from services.common.settings import load
from services.tunnel.catalog import (
    build_catalog,
    catalog_of,
    find_platform,
    host_proxy,
    is_loopback,
    parse_local_address,
)
from tests.support.fakehosts import build_host


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


def host_config(root: Path, **extra: str) -> Config:
    return load(Config, {"CLD_HOST_ROOT": str(root), **extra})


def test_the_relay_is_reached_through_the_hosts_own_proxy_setting(
    tmp_path: Path,
) -> None:
    root = build_host(tmp_path / "host", "mbg")
    config = host_config(root)
    platform = find_platform(config)

    assert platform.profile is not None
    assert platform.profile.id == "mbg"
    assert host_proxy(config, platform) == "http://proxy.lab.example:3128"


def test_the_proxy_variable_wins_over_the_hosts_setting(tmp_path: Path) -> None:
    root = build_host(tmp_path / "host", "mbg")
    config = host_config(root, CLD_HTTPS_PROXY="http://u:p@127.0.0.1:8080")

    assert host_proxy(config, find_platform(config)) == "http://u:p@127.0.0.1:8080"


def test_a_catalog_holds_the_tunnels_of_the_installed_components_only(
    tmp_path: Path,
) -> None:
    root = build_host(tmp_path / "host", "mbg")
    platform = find_platform(host_config(root))
    assert platform.profile is not None
    ids = [c.id for c in platform.profile.components]

    everything = catalog_of(platform, ids)
    first_only = catalog_of(platform, ids[:1])

    assert {t.component for t in everything.tunnels} <= set(ids)
    assert {t.component for t in first_only.tunnels} <= {ids[0]}
    assert len(first_only.tunnels) < len(everything.tunnels)
