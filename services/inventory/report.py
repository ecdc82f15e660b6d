"""The inventory report, built from gathered facts by pure functions.

The report's shape is the JSON Schema ``schemas/inventory-report.v1.json``;
``encode`` gives the exact bytes that are previewed, queued and sent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from services.common.profiles import Profile
from services.common.version import BuildInfo
from services.inventory.facts import HostFacts, PlatformFacts

SCHEMA_VERSION = 1

# Most important first: when triggers coalesce into one report, the report
# names the reason that matters most.
REASONS = ("manual", "link", "restart", "daily", "change")

TUNNEL_STATES = ("stopped", "starting", "started", "failed")


@dataclass(frozen=True)
class TunnelStatus:
    """A tunnel's state as the tunnel service last published it."""

    state: str
    reason: str = ""


@dataclass(frozen=True)
class SystemIdentity:
    """Which linked system the report describes."""

    system_id: str
    account_id: str


def stronger(reason: str, other: str | None) -> str:
    """The more important of two report reasons."""

    if other is None:
        return reason

    return min(reason, other, key=REASONS.index)


def timestamp(moment: datetime) -> str:
    """``moment`` in the report's form, e.g. 2025-01-31T12:00:00.123Z."""

    utc = moment.astimezone(UTC)
    return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def build_report(
    *,
    report_id: str,
    reason: str,
    created_at: datetime,
    system: SystemIdentity,
    profile: Profile,
    platform: PlatformFacts,
    host: HostFacts,
    build: BuildInfo,
    tunnels: Mapping[tuple[str, str], TunnelStatus],
) -> dict[str, Any]:
    """The report for these facts."""

    if reason not in REASONS:
        raise ValueError(f"unknown report reason {reason!r}")

    return {
        "schemaVersion": SCHEMA_VERSION,
        "reportId": report_id,
        "reason": reason,
        "createdAt": timestamp(created_at),
        "system": {"systemId": system.system_id, "accountId": system.account_id},
        "platform": {
            "id": profile.id,
            "name": profile.name,
            "version": platform.version,
            "parent": profile.parent or None,
            "notes": list(profile.notes),
            "language": platform.language,
            "proxy": platform.proxy,
        },
        "daemon": {
            "version": build.version,
            "buildNumber": build.build_number,
            "commit": build.commit,
            "branch": build.branch,
            "stage": build.stage,
        },
        "host": _host(host),
        "components": [
            {"id": c.id, "name": c.name, "version": c.version}
            for c in platform.components
        ],
        "tunnels": _tunnels(profile, platform, tunnels),
        "gateway": {
            "installed": platform.gateway_installed,
            "version": platform.gateway_version,
            "statusUrl": (
                profile.gateway.status_url if platform.gateway_installed else None
            ),
        },
    }


def encode(report: Mapping[str, Any]) -> bytes:
    """The report's bytes as sent: compact, keys sorted, UTF-8."""

    return json.dumps(
        report, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()


def _host(host: HostFacts) -> dict[str, Any]:
    return {
        "hostname": host.hostname,
        "os": host.os,
        "kernel": host.kernel,
        "cpu": {"model": host.cpu_model, "count": host.cpu_count},
        "memoryBytes": host.memory_bytes,
        "disk": {
            "totalBytes": host.disk_total_bytes,
            "freeBytes": host.disk_free_bytes,
        },
        "addresses": list(host.addresses),
        "uptimeSeconds": host.uptime_seconds,
        "timeZone": host.time_zone,
        "clockSynchronized": host.clock_synchronized,
    }


def _tunnels(
    profile: Profile,
    platform: PlatformFacts,
    states: Mapping[tuple[str, str], TunnelStatus],
) -> list[dict[str, Any]]:
    """Tunnels of installed components, and of any the tunnel service runs."""

    installed = {c.id for c in platform.components}
    rows = []

    for spec in profile.tunnels():
        status = states.get((spec.component, spec.name))

        if spec.component not in installed and status is None:
            continue

        known = status is not None and status.state in TUNNEL_STATES
        rows.append(
            {
                "component": spec.component,
                "name": spec.name,
                "description": spec.description,
                "localAddress": spec.local_address,
                "state": status.state if known and status else "unknown",
                "reason": status.reason if status else "",
            }
        )

    return rows
