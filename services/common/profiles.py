"""Platform profiles: what a platform runs, how it is detected, what it tunnels.

A profile is a TOML file in ``platforms/`` (the format is described in
``platforms/README.md``). The tunnel service reads its tunnel list from the
same profiles the inventory service detects the platform with.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path

from services.common.profile_model import (
    DEFAULT_GATEWAY,
    NOTES,
    ComponentSpec,
    Detection,
    GatewaySpec,
    Profile,
    Rule,
    TunnelSpec,
    ValueRule,
)
from services.common.profile_reader import ProfileError, ProfileReader

__all__ = [
    "DEFAULT_GATEWAY",
    "NOTES",
    "ComponentSpec",
    "Detection",
    "GatewaySpec",
    "Profile",
    "ProfileError",
    "Rule",
    "TunnelSpec",
    "ValueRule",
    "detect_components",
    "detect_platform",
    "load_profile",
    "load_profiles",
    "matching_platforms",
    "platforms_dir",
]


def platforms_dir() -> Path:
    """The platforms/ folder shipped with the daemon."""

    return Path(__file__).resolve().parents[2] / "platforms"


def load_profile(path: Path) -> Profile:
    """Reads and validates one profile; raises ProfileError naming the field."""

    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileError(f"{path}: cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ProfileError(f"{path}: is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: is not valid TOML: {exc}") from None

    return ProfileReader(path).profile(document)


def load_profiles(directory: Path) -> dict[str, Profile]:
    """Every ``*.toml`` profile in ``directory``, by id."""

    if not directory.is_dir():
        raise ProfileError(f"{directory}: is not a folder of platform profiles")

    profiles = {p.id: p for p in map(load_profile, sorted(directory.glob("*.toml")))}

    for profile in profiles.values():
        if profile.parent and profile.parent not in profiles:
            raise ProfileError(
                f"{profile.source}: parent: no profile {profile.parent!r} in "
                f"{directory}"
            )

    return profiles


def matching_platforms(
    profiles: Mapping[str, Profile], host_root: Path
) -> list[Profile]:
    """The profiles whose detection holds on the host, children before parents."""

    matches = [p for p in profiles.values() if p.detect.holds(host_root)]
    parents = {p.parent for p in matches}

    # A child platform runs inside its parent, so the parent's markers are
    # present too; the child is what this system is.
    return sorted(matches, key=lambda p: (p.id in parents, p.id))


def detect_platform(profiles: Mapping[str, Profile], host_root: Path) -> Profile | None:
    """The platform the host under ``host_root`` runs, or None."""

    matches = matching_platforms(profiles, host_root)
    return matches[0] if matches else None


def detect_components(profile: Profile, host_root: Path) -> list[ComponentSpec]:
    """The components of ``profile`` installed on the host, in profile order."""

    return [c for c in profile.components if c.detect.holds(host_root)]
