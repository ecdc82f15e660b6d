"""Choosing the platform and the reporter's settings at start-up."""

from __future__ import annotations

import shutil
from datetime import time
from pathlib import Path

import pytest

from cloud.reports import problems
from services.common.config import Config
from services.common.profiles import platforms_dir
from services.common.settings import load
from services.common.version import build_info
from services.inventory.facts import gather_host, survey_platform
from services.inventory.platform import (
    UNKNOWN,
    StartError,
    choose_profile,
    settings_of,
)
from services.inventory.report import build_report
from tests.support.fakehosts import build_host, write
from tests.unit.inventory.reports import MOMENT, SYSTEM


def config(**variables: str) -> Config:
    return load(Config, variables)


def test_the_platform_is_detected_on_the_host(tmp_path: Path) -> None:
    host = build_host(tmp_path, "sip-dect")

    assert choose_profile(config(CLD_HOST_ROOT=str(host))).id == "sip-dect"


def test_a_configured_platform_wins_over_detection(tmp_path: Path) -> None:
    host = build_host(tmp_path, "sip-dect")
    chosen = config(CLD_HOST_ROOT=str(host), CLD_PLATFORM="osv")

    assert choose_profile(chosen).id == "osv"


def test_an_unknown_configured_platform_is_named(tmp_path: Path) -> None:
    with pytest.raises(
        StartError, match=r"CLD_PLATFORM='pbx9000' is not valid.*mx-one"
    ):
        choose_profile(config(CLD_HOST_ROOT=str(tmp_path), CLD_PLATFORM="pbx9000"))


def test_an_invalid_profile_stops_the_choice(tmp_path: Path) -> None:
    folder = tmp_path / "platforms"
    shutil.copytree(platforms_dir(), folder)
    (folder / "osv.toml").write_text('id = "osv"\n')

    with pytest.raises(StartError, match=r"osv\.toml: components: a platform needs"):
        choose_profile(
            config(CLD_HOST_ROOT=str(tmp_path), CLD_PLATFORMS_DIR=str(folder))
        )


def test_an_unrecognised_host_is_reported_as_an_unknown_platform(
    tmp_path: Path,
) -> None:
    profile = choose_profile(config(CLD_HOST_ROOT=str(tmp_path)))

    report = build_report(
        report_id="0b9a6b4e-7f57-4d39-9a4e-6a1c0a3f8e11",
        reason="restart",
        created_at=MOMENT,
        system=SYSTEM,
        profile=profile,
        platform=survey_platform(profile, tmp_path),
        host=gather_host(tmp_path),
        build=build_info(),
        tunnels={},
    )

    assert profile is UNKNOWN
    assert report["platform"]["id"] == "unknown"
    assert report["components"] == []
    assert problems(report) == []


def test_the_daily_time_is_checked_naming_the_variable() -> None:
    assert settings_of(config(CLD_INVENTORY_DAILY_AT="04:30")).daily_at == time(4, 30)
    assert settings_of(config(CLD_INVENTORY_DAILY_AT="")).daily_at is None

    with pytest.raises(StartError, match=r"CLD_INVENTORY_DAILY_AT='4h30' is not"):
        settings_of(config(CLD_INVENTORY_DAILY_AT="4h30"))


def test_every_gateway_installation_on_the_host_is_counted(tmp_path: Path) -> None:
    profile = choose_profile(config(CLD_PLATFORM="mivb"))
    none = survey_platform(profile, build_host(tmp_path / "a", "mivb"))
    one = survey_platform(profile, build_host(tmp_path / "b", "mivb", gateway=True))

    two_root = build_host(tmp_path / "c", "mivb", gateway=True)
    write(two_root, "opt/cloudlink-gateway-2/VERSION", "2.4.0\n")
    two = survey_platform(profile, two_root)

    assert (none.gateway_installed, none.gateway_instances) == (False, 0)
    assert (one.gateway_installed, one.gateway_instances) == (True, 1)
    assert (two.gateway_installed, two.gateway_instances) == (True, 2)
    assert two.change_key() != one.change_key()
