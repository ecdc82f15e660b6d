"""The tunnels this system offers: its platform profile's, and nothing else.

The list is read from the profile of the detected platform, for the
components found on the host. A tunnel's local address is checked here
once; later, the tunnel service connects only to addresses from this list.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from services.common.config import Config
from services.common.profiles import (
    Profile,
    ProfileError,
    TunnelSpec,
    detect_components,
    detect_platform,
    load_profiles,
    platforms_dir,
)
from services.tunnel.messages import valid_name

log = logging.getLogger(__name__)

Key = tuple[str, str]


@dataclass(frozen=True)
class LocalTarget:
    """Where a tunnel leads on this host."""

    scheme: str
    host: str
    port: int

    @property
    def tls(self) -> bool:
        """True for an https:// interface."""

        return self.scheme == "https"

    @property
    def loopback(self) -> bool:
        """True when the interface is on this host's loopback."""

        return is_loopback(self.host)


@dataclass(frozen=True)
class CatalogTunnel:
    """One tunnel of the catalog, its local address already checked."""

    component: str
    name: str
    description: str
    local_address: str
    target: LocalTarget

    @property
    def key(self) -> Key:
        """The tunnel's identity on this system."""

        return (self.component, self.name)


@dataclass(frozen=True)
class Catalog:
    """Every tunnel offered, and why any are missing."""

    tunnels: tuple[CatalogTunnel, ...]
    problem: str = ""

    def get(self, key: Key) -> CatalogTunnel | None:
        """The tunnel ``key``, if offered."""

        return next((t for t in self.tunnels if t.key == key), None)


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (127.0.0.0/8, ::1)."""

    if host.lower() == "localhost":
        return True

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_local_address(address: str) -> LocalTarget:
    """The target of an http(s)://host[:port] address; ValueError if not one."""

    parts = urlsplit(address)

    if parts.scheme not in {"http", "https"}:
        raise ValueError(f"{address!r} is not an http:// or https:// address")

    if not parts.hostname or parts.username or parts.password:
        raise ValueError(f"{address!r} has no plain host")

    if parts.path not in {"", "/"} or parts.query or parts.fragment:
        raise ValueError(f"{address!r} must name a host and port only")

    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ValueError(f"{address!r} has an invalid port") from None

    return LocalTarget(parts.scheme, parts.hostname, port)


def build_catalog(specs: list[TunnelSpec]) -> Catalog:
    """The catalog of ``specs``; a tunnel with a bad address is left out."""

    tunnels: list[CatalogTunnel] = []
    problems: list[str] = []
    seen: set[Key] = set()

    for spec in specs:
        key = (spec.component, spec.name)

        if not (valid_name(spec.component) and valid_name(spec.name)):
            problems.append(f"{spec.component}/{spec.name}: not a valid tunnel name")
            continue

        if key in seen:
            problems.append(f"{spec.component}/{spec.name}: listed twice")
            continue

        try:
            target = parse_local_address(spec.local_address)
        except ValueError as exc:
            problems.append(f"{spec.component}/{spec.name}: {exc}")
            continue

        seen.add(key)
        tunnels.append(
            CatalogTunnel(
                spec.component, spec.name, spec.description, spec.local_address, target
            )
        )

    return Catalog(tuple(tunnels), "; ".join(problems))


@dataclass(frozen=True)
class HostPlatform:
    """The platform profile this host runs, or why there is none."""

    profile: Profile | None
    problem: str = ""


def find_platform(config: Config) -> HostPlatform:
    """The configured platform's profile, or the one detected on the host."""

    directory = Path(config.platforms_dir) if config.platforms_dir else platforms_dir()

    try:
        profiles = load_profiles(directory)
    except ProfileError as exc:
        return HostPlatform(None, f"The platform profiles cannot be read: {exc}")

    if config.platform:
        profile = profiles.get(config.platform)

        if profile is None:
            return HostPlatform(
                None, f"There is no platform profile {config.platform!r}."
            )

        return HostPlatform(profile)

    profile = detect_platform(profiles, config.host_root)

    if profile is None:
        return HostPlatform(None, "No platform profile matches this host.")

    return HostPlatform(profile)


def catalog_of(platform: HostPlatform, components: Iterable[str]) -> Catalog:
    """The catalog of the installed ``components`` (ids) of the platform."""

    if platform.profile is None:
        return Catalog((), platform.problem)

    installed = set(components)
    specs = [
        tunnel
        for component in platform.profile.components
        if component.id in installed
        for tunnel in component.tunnels
    ]
    catalog = build_catalog(specs)

    if catalog.problem:
        log.warning(
            "Some tunnels of %s are left out: %s",
            platform.profile.id,
            catalog.problem,
        )

    return catalog


def load_catalog(config: Config, platform: HostPlatform | None = None) -> Catalog:
    """The catalog for the host, from its platform and detected components."""

    platform = platform or find_platform(config)

    if platform.profile is None:
        return Catalog((), platform.problem)

    found = detect_components(platform.profile, config.host_root)
    catalog = catalog_of(platform, (c.id for c in found))
    log.info(
        "Platform %s offers %d tunnels",
        platform.profile.id,
        len(catalog.tunnels),
        extra={"platform": platform.profile.id},
    )
    return catalog


def host_proxy(config: Config, platform: HostPlatform) -> str:
    """The proxy for the relay: the setting, else the host's own, else none."""

    if config.https_proxy or platform.profile is None:
        return config.https_proxy

    rule = platform.profile.proxy
    return (rule.read(config.host_root) or "") if rule else ""
