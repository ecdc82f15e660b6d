"""What the dashboard shows of the host platform: its name, language and zone."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from services.common.config import Config
from services.common.hostzone import host_zone_name
from services.common.profiles import (
    Profile,
    ProfileError,
    detect_platform,
    load_profiles,
    platforms_dir,
)
from services.common.settings import ConfigError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Host:
    """The host platform as read at start-up; empty fields were not found."""

    name: str = ""
    language: str = ""
    zone: str = "Etc/UTC"


def _profiles(config: Config) -> dict[str, Profile]:
    directory = Path(config.platforms_dir) if config.platforms_dir else platforms_dir()
    return load_profiles(directory)


def check(config: Config) -> None:
    """Raises ConfigError naming CLD_PLATFORM when it names no profile."""

    if not config.platform:
        return

    try:
        known = _profiles(config)
    except ProfileError:
        # The inventory service refuses to start over a broken profile and
        # says which; the dashboard still serves without a platform name.
        return

    if config.platform not in known:
        raise ConfigError(
            f"CLD_PLATFORM={config.platform!r} is not valid: expected one of "
            f"{', '.join(sorted(known))}"
        )


def read_host(config: Config) -> Host:
    """The configured or detected platform's name and language, and the zone."""

    zone = host_zone_name(config.host_root)

    try:
        profiles = _profiles(config)
    except ProfileError as exc:
        log.warning("Showing no platform name: %s", exc)
        return Host(zone=zone)

    if config.platform:
        profile = profiles.get(config.platform)
    else:
        profile = detect_platform(profiles, config.host_root)

    if profile is None:
        return Host(zone=zone)

    language = ""

    if profile.language is not None:
        language = profile.language.read(config.host_root) or ""

    return Host(name=profile.name, language=language, zone=zone)
