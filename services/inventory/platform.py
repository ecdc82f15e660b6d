"""Which platform this host is, and the reporter's settings, chosen at start."""

from __future__ import annotations

import logging
from pathlib import Path

from services.common.config import Config
from services.common.profiles import (
    Detection,
    Profile,
    ProfileError,
    detect_platform,
    load_profiles,
    platforms_dir,
)
from services.inventory import schedule
from services.inventory.reporter import Settings

log = logging.getLogger(__name__)

# A host no profile matches is still reported: its host facts and the
# daemon's version are worth having, with no components.
UNKNOWN = Profile(
    id="unknown",
    name="Unknown platform",
    components=(),
    detect=Detection("all", ()),
)


class StartError(Exception):
    """A setting or profile that keeps the service from starting."""


def choose_profile(config: Config) -> Profile:
    """The configured platform's profile, or the one detected on the host."""

    directory = Path(config.platforms_dir) if config.platforms_dir else platforms_dir()

    try:
        profiles = load_profiles(directory)
    except ProfileError as exc:
        raise StartError(f"a platform profile is not valid: {exc}") from None

    if config.platform:
        if config.platform not in profiles:
            raise StartError(
                f"CLD_PLATFORM={config.platform!r} is not valid: expected one of "
                f"{', '.join(sorted(profiles))}"
            )

        return profiles[config.platform]

    detected = detect_platform(profiles, config.host_root)

    if detected is None:
        log.warning(
            "No platform profile matches the host at %s; reporting it as an "
            "unknown platform (set CLD_PLATFORM to choose one)",
            config.host_root,
        )
        return UNKNOWN

    log.info("Detected platform %s (%s)", detected.name, detected.id)
    return detected


def settings_of(config: Config) -> Settings:
    """The reporter's timings, with the daily time checked."""

    try:
        daily_at = schedule.parse_time_of_day(config.inventory_daily_at)
    except ValueError as exc:
        raise StartError(
            f"CLD_INVENTORY_DAILY_AT={config.inventory_daily_at!r} is not valid: {exc}"
        ) from None

    return Settings(
        debounce=config.inventory_debounce,
        rescan=config.inventory_rescan,
        daily_at=daily_at,
    )
