"""The Warnings area: what in the daemon's state an administrator must fix."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.ui.live import CLOCK_DRIFT, GATEWAY, LINK, TUNNEL_STATUS

# Tunnels (token lifetimes, TLS) break beyond this much drift.
DRIFT_LIMIT = 45.0

# The tunnel service measures the drift against the cloud every
# CLD_TUNNEL_CLOCK_CHECK seconds; this many missed measurements in a row
# means the cloud has been out of reach for a long time, not for a blip.
MISSED_MEASUREMENTS = 3
UNREACHABLE_AT_LEAST = timedelta(minutes=30)

CLOCK_DRIFT_KIND = "clock_drift"
LINK_LOST_KIND = "link_lost"
GATEWAYS_KIND = "gateways"
UNREACHABLE_KIND = "cloud_unreachable"


@dataclass(frozen=True)
class PanelWarning:
    """One warning; the page words it from ``kind`` in the reader's language."""

    kind: str
    seconds: int = 0
    count: int = 0
    detail: str = ""
    since: datetime | None = None


def warnings(
    state: Mapping[str, Mapping[str, Any]], now: datetime, check_interval: float
) -> list[PanelWarning]:
    """Every warning the retained state calls for, most urgent first.

    ``check_interval`` is the tunnel service's seconds between clock drift
    measurements (CLD_TUNNEL_CLOCK_CHECK).
    """

    found = [
        _link_lost(state.get(LINK, {})),
        _unreachable(state, now, check_interval),
        _clock_drift(state.get(CLOCK_DRIFT, {})),
        _gateways(state.get(GATEWAY, {})),
    ]
    return [w for w in found if w is not None]


def drift_seconds(payload: Mapping[str, Any]) -> float | None:
    """The measured drift in a clock-drift payload, or None."""

    for key in ("drift_seconds", "seconds"):
        value = payload.get(key)

        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)

    return None


def _clock_drift(payload: Mapping[str, Any]) -> PanelWarning | None:
    drift = drift_seconds(payload)

    if drift is None or abs(drift) <= DRIFT_LIMIT:
        return None

    return PanelWarning(CLOCK_DRIFT_KIND, seconds=round(abs(drift)))


def _link_lost(payload: Mapping[str, Any]) -> PanelWarning | None:
    reason = payload.get("reason")

    if payload.get("state") != "not_linked" or not reason:
        return None

    return PanelWarning(LINK_LOST_KIND, detail=str(reason))


def _gateways(payload: Mapping[str, Any]) -> PanelWarning | None:
    count = payload.get("instances")

    if not isinstance(count, int) or isinstance(count, bool) or count <= 1:
        return None

    return PanelWarning(GATEWAYS_KIND, count=count)


def _unreachable(
    state: Mapping[str, Mapping[str, Any]], now: datetime, check_interval: float
) -> PanelWarning | None:
    # A stopped tunnel service measures nothing; its silence says nothing
    # about the cloud.
    if state.get(TUNNEL_STATUS, {}).get("state") != "online":
        return None

    measured = state.get(CLOCK_DRIFT, {})
    last = _moment(measured.get("at"))

    if last is None or drift_seconds(measured) is None:
        return None

    patience = max(
        UNREACHABLE_AT_LEAST, timedelta(seconds=check_interval * MISSED_MEASUREMENTS)
    )

    if now - last <= patience:
        return None

    return PanelWarning(UNREACHABLE_KIND, since=last)


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None

    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None

    return moment if moment.tzinfo is not None else None
