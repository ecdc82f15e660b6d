"""Building a report for a fake host, shared by the inventory's unit tests."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.common.profiles import detect_platform, load_profiles, platforms_dir
from services.common.version import BuildInfo
from services.inventory.facts import gather_host, survey_platform
from services.inventory.report import SystemIdentity, TunnelStatus, build_report

SYSTEM = SystemIdentity(str(uuid.uuid4()), "63d797da-b7b3-4883-9d49-e830bb7d7be6")
BUILD = BuildInfo("1.2.3", "45", "abc1234", "main", "development")
MOMENT = datetime(2025, 3, 4, 5, 6, 7, 890000, tzinfo=UTC)


def report_for(
    host: Path,
    reason: str = "manual",
    tunnels: Mapping[tuple[str, str], TunnelStatus] | None = None,
) -> dict[str, Any]:
    """The report of the fake host at ``host``."""

    profile = detect_platform(load_profiles(platforms_dir()), host)
    assert profile is not None
    return build_report(
        report_id=str(uuid.uuid4()),
        reason=reason,
        created_at=MOMENT,
        system=SYSTEM,
        profile=profile,
        platform=survey_platform(profile, host),
        host=gather_host(host),
        build=BUILD,
        tunnels=tunnels or {},
    )
