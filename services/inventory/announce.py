"""What the inventory service keeps on the bus: platform, gateway, submissions.

Plain functions from facts to retained payloads; the reporter publishes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.common import topics
from services.common.profiles import Profile
from services.inventory.facts import PlatformFacts

PLATFORM = topics.topic("inventory", "platform")
GATEWAY = topics.topic("inventory", "gateway")
SUBMISSION = topics.topic("inventory", "submission")


@dataclass(frozen=True)
class Status:
    """Last and next submission, for the dashboard."""

    last_submission: datetime | None
    next_submission: datetime | None
    outbox_depth: int
    rejected: int
    last_error: str
    last_result: str
    linked: bool


def platform_state(profile: Profile, facts: PlatformFacts) -> dict[str, Any]:
    """The platform and its installed components."""

    return {
        "id": profile.id,
        "name": profile.name,
        "version": facts.version,
        "language": facts.language,
        "components": [
            {"id": c.id, "name": c.name, "version": c.version} for c in facts.components
        ],
    }


def gateway_state(profile: Profile, facts: PlatformFacts) -> dict[str, Any]:
    """Whether a CloudLink Gateway is installed beside the daemon."""

    return {
        "installed": facts.gateway_installed,
        "version": facts.gateway_version,
        "status_url": profile.gateway.status_url if facts.gateway_installed else "",
        "instances": facts.gateway_instances,
    }


def submission_state(status: Status) -> dict[str, Any]:
    """Last and next submission and the outbox, without the last result."""

    return {
        "last_submission": _iso(status.last_submission),
        "next_submission": _iso(status.next_submission),
        "outbox_depth": status.outbox_depth,
        "rejected": status.rejected,
        "last_error": status.last_error,
    }


def _iso(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else ""
