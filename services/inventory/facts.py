"""Gathering what the report says about the host and its platform."""

from __future__ import annotations

import ctypes
import ctypes.util
import ipaddress
import itertools
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from services.common.hostfacts import read_text
from services.common.profiles import Profile, detect_components

_TIME_ERROR = 5

# Each CloudLink Gateway installation keeps its version in its own folder
# below opt/; a second one beside the first keeps the gateway from being
# onboarded again, which the dashboard warns about.
GATEWAY_INSTANCES = "opt/cloudlink-gateway*/VERSION"


@dataclass(frozen=True)
class HostFacts:
    """The host's identity and resources."""

    hostname: str
    os: str | None
    kernel: str | None
    cpu_model: str | None
    cpu_count: int
    memory_bytes: int | None
    disk_total_bytes: int | None
    disk_free_bytes: int | None
    addresses: tuple[str, ...]
    uptime_seconds: float | None
    time_zone: str | None
    clock_synchronized: bool | None


@dataclass(frozen=True)
class InstalledComponent:
    """A component found on the host, with its version when it can be read."""

    id: str
    name: str
    version: str | None


@dataclass(frozen=True)
class PlatformFacts:
    """What the platform profile finds on the host."""

    version: str | None
    language: str | None
    proxy: str | None
    components: tuple[InstalledComponent, ...]
    gateway_installed: bool
    gateway_version: str | None
    gateway_instances: int = 0

    def change_key(self) -> tuple[object, ...]:
        """What must differ for the host to count as changed."""

        return (
            self.components,
            self.gateway_installed,
            self.gateway_version,
            self.gateway_instances,
        )


def survey_platform(profile: Profile, host_root: Path) -> PlatformFacts:
    """Reads the platform's version, settings, components and gateway."""

    components = tuple(
        InstalledComponent(
            c.id, c.name, c.version.read(host_root) if c.version else None
        )
        for c in detect_components(profile, host_root)
    )
    gateway = profile.gateway
    installed = gateway.detect.holds(host_root)
    return PlatformFacts(
        version=profile.version.read(host_root) if profile.version else None,
        language=profile.language.read(host_root) if profile.language else None,
        proxy=_without_credentials(
            profile.proxy.read(host_root) if profile.proxy else None
        ),
        components=components,
        gateway_installed=installed,
        gateway_version=(
            gateway.version.read(host_root) if installed and gateway.version else None
        ),
        gateway_instances=gateway_instances(host_root, installed),
    )


def gateway_instances(host_root: Path, installed: bool) -> int:
    """How many CloudLink Gateway installations the host holds.

    A gateway the profile detects some other way (a package, say) is one.
    """

    found = sum(1 for _ in host_root.glob(GATEWAY_INSTANCES))
    return max(found, 1) if installed else found


def gather_host(host_root: Path) -> HostFacts:
    """Reads the host's facts below ``host_root``."""

    cpuinfo = read_text(host_root, "proc/cpuinfo") or ""
    disk_total, disk_free = _disk(host_root)

    return HostFacts(
        hostname=_first_line(read_text(host_root, "etc/hostname"))
        or _first_line(read_text(host_root, "proc/sys/kernel/hostname"))
        or socket.gethostname(),
        os=_os_release(read_text(host_root, "etc/os-release")),
        kernel=_first_line(read_text(host_root, "proc/sys/kernel/osrelease")),
        cpu_model=_field(cpuinfo, "model name"),
        cpu_count=sum(
            1 for line in cpuinfo.splitlines() if line.startswith("processor")
        ),
        memory_bytes=_memory(read_text(host_root, "proc/meminfo")),
        disk_total_bytes=disk_total,
        disk_free_bytes=disk_free,
        addresses=_addresses(host_root),
        uptime_seconds=_uptime(read_text(host_root, "proc/uptime")),
        time_zone=_time_zone(host_root),
        clock_synchronized=_clock_synchronized(host_root),
    )


def _first_line(text: str | None) -> str | None:
    line = (text or "").strip().splitlines()
    return line[0].strip() if line and line[0].strip() else None


def _field(text: str, name: str) -> str | None:
    for line in text.splitlines():
        key, sep, value = line.partition(":")

        if sep and key.strip() == name and value.strip():
            return value.strip()

    return None


def _os_release(text: str | None) -> str | None:
    for line in (text or "").splitlines():
        key, _, value = line.partition("=")

        if key == "PRETTY_NAME" and value.strip('"'):
            return value.strip().strip('"')

    return None


def _memory(text: str | None) -> int | None:
    value = _field(text or "", "MemTotal")

    try:
        return int(value.split()[0]) * 1024 if value else None
    except ValueError:
        return None


def _disk(host_root: Path) -> tuple[int | None, int | None]:
    try:
        stats = os.statvfs(host_root)
    except OSError:
        return None, None

    return stats.f_blocks * stats.f_frsize, stats.f_bavail * stats.f_frsize


def _uptime(text: str | None) -> float | None:
    try:
        return float((text or "").split()[0])
    except (IndexError, ValueError):
        return None


def _time_zone(host_root: Path) -> str | None:
    named = _first_line(read_text(host_root, "etc/timezone"))

    if named:
        return named

    try:
        target = os.readlink(host_root / "etc/localtime")
    except OSError:
        return None

    _, found, zone = target.partition("zoneinfo/")
    return zone if found and zone else None


def _addresses(host_root: Path) -> tuple[str, ...]:
    """The host's own addresses, loopback and link-local left out."""

    found: list[str] = []
    lines = (read_text(host_root, "proc/net/fib_trie") or "").splitlines()

    # fib_trie lists each local address on a line followed by "/32 host LOCAL".
    for line, following in itertools.pairwise(lines):
        if "/32 host LOCAL" in following and "--" in line:
            found.append(line.split("--", 1)[1].strip())

    for line in (read_text(host_root, "proc/net/if_inet6") or "").splitlines():
        raw = line.split()[0] if line.split() else ""

        if len(raw) == 32:
            found.append(":".join(raw[i : i + 4] for i in range(0, 32, 4)))

    addresses: list[str] = []

    for text in found:
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            continue

        if not (address.is_loopback or address.is_link_local):
            addresses.append(str(address))

    return tuple(dict.fromkeys(addresses))


def _clock_synchronized(host_root: Path) -> bool | None:
    if (host_root / "run/systemd/timesync/synchronized").exists():
        return True

    # The kernel's own view counts only for the host the daemon runs on.
    if host_root.resolve() != Path("/"):
        return None

    return _kernel_clock_synchronized()


def _kernel_clock_synchronized() -> bool | None:
    name = ctypes.util.find_library("c")

    if name is None:
        return None

    libc = ctypes.CDLL(name, use_errno=True)

    # struct timex is under 256 bytes everywhere; modes = 0 only reads.
    buffer = ctypes.create_string_buffer(512)
    state = libc.adjtimex(buffer)

    if state < 0:
        return None

    return bool(state != _TIME_ERROR)


def _without_credentials(url: str | None) -> str | None:
    if not url:
        return None

    parts = urlsplit(url)

    if parts.hostname is None:
        return None

    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return None

    return f"{parts.scheme}://{parts.hostname}{port}"
