"""Trusted keys files and the host's time zone, from fake host files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.common.hostzone import ZoneError, host_zone_name, zone_named
from services.updater.keys import (
    PACKAGED_KEYS,
    KeysError,
    keys_document,
    read_keys,
    trusted_keys,
)
from services.updater.manifest import key_id


def test_the_daemon_carries_release_keys() -> None:
    packaged = read_keys(PACKAGED_KEYS)

    assert packaged
    assert trusted_keys("") == packaged


def test_an_extra_keys_file_adds_its_keys(tmp_path: Path) -> None:
    public = Ed25519PrivateKey.generate().public_key()
    extra = tmp_path / "release-keys.json"
    extra.write_text(json.dumps(keys_document(public, "development")))

    keys = trusted_keys(str(extra))

    assert key_id(public) in keys
    assert set(read_keys(PACKAGED_KEYS)) < set(keys)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "cannot read the keys file"),
        ("{", "not valid JSON"),
        ('{"keys": 3}', "no list of keys"),
        ('{"keys": [{"public_key": "AAAA"}]}', "key 1 .* not usable: an Ed25519"),
        ('{"keys": [{}]}', "key 1 .* not usable"),
    ],
)
def test_bad_keys_files_are_named(
    tmp_path: Path, content: str | None, reason: str
) -> None:
    path = tmp_path / "keys.json"

    if content is not None:
        path.write_text(content)

    with pytest.raises(KeysError, match=reason):
        trusted_keys(str(path))


def fake_host(tmp_path: Path) -> Path:
    (tmp_path / "etc").mkdir()
    return tmp_path


def test_the_zone_comes_from_the_localtime_link(tmp_path: Path) -> None:
    root = fake_host(tmp_path)
    os.symlink("/usr/share/zoneinfo/Europe/Berlin", root / "etc" / "localtime")

    assert host_zone_name(root) == "Europe/Berlin"


def test_a_changed_link_is_seen_at_the_next_read(tmp_path: Path) -> None:
    root = fake_host(tmp_path)
    link = root / "etc" / "localtime"
    os.symlink("../usr/share/zoneinfo/Europe/Berlin", link)
    assert host_zone_name(root) == "Europe/Berlin"

    link.unlink()
    os.symlink("../usr/share/zoneinfo/America/New_York", link)

    assert host_zone_name(root) == "America/New_York"


def test_debians_timezone_file_is_the_fallback(tmp_path: Path) -> None:
    root = fake_host(tmp_path)
    (root / "etc" / "localtime").write_bytes(b"TZif copied file")
    (root / "etc" / "timezone").write_text("Asia/Tokyo\n")

    assert host_zone_name(root) == "Asia/Tokyo"


def test_unknown_or_missing_zones_fall_back_to_utc(tmp_path: Path) -> None:
    root = fake_host(tmp_path)
    assert host_zone_name(root) == "Etc/UTC"

    os.symlink("/usr/share/zoneinfo/Mars/Olympus", root / "etc" / "localtime")
    (root / "etc" / "timezone").write_text("Nowhere/Special\n")

    assert host_zone_name(root) == "Etc/UTC"


def test_zone_names_are_checked() -> None:
    assert str(zone_named("Europe/Paris")) == "Europe/Paris"

    with pytest.raises(ZoneError, match="'Europe/Atlantis' is not a known time zone"):
        zone_named("Europe/Atlantis")
