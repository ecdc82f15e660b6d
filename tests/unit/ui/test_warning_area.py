"""The Warnings area: which retained state calls for which warning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from services.ui.live import CLOCK_DRIFT, GATEWAY, LINK, TUNNEL_STATUS, LiveState
from services.ui.warning_area import (
    CLOCK_DRIFT_KIND,
    GATEWAYS_KIND,
    LINK_LOST_KIND,
    UNREACHABLE_KIND,
    PanelWarning,
    warnings,
)

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
INTERVAL = 600.0


def _warnings(state: dict[str, dict[str, Any]]) -> list[PanelWarning]:
    return warnings(state, NOW, INTERVAL)


def _drift(seconds: float, at: datetime = NOW) -> dict[str, Any]:
    return {"drift_seconds": seconds, "at": at.isoformat()}


def test_nothing_retained_means_no_warning() -> None:
    assert _warnings({}) == []


@pytest.mark.parametrize(("drift", "shown"), [(45.0, None), (45.4, 45), (-90.6, 91)])
def test_clock_drift_beyond_45_seconds_is_a_warning(
    drift: float, shown: int | None
) -> None:
    found = _warnings({CLOCK_DRIFT: _drift(drift)})

    if shown is None:
        assert found == []
    else:
        assert found == [PanelWarning(CLOCK_DRIFT_KIND, seconds=shown)]


def test_a_drift_published_as_seconds_is_read_too() -> None:
    assert _warnings({CLOCK_DRIFT: {"seconds": 120.0}})[0].seconds == 120


@pytest.mark.parametrize("payload", [{"seconds": "lots"}, {"drift_seconds": True}])
def test_a_drift_that_is_not_a_number_is_ignored(payload: dict[str, Any]) -> None:
    assert _warnings({CLOCK_DRIFT: payload}) == []


def test_a_lost_link_carries_the_registration_services_reason() -> None:
    reason = "The cloud rejected this system's credentials (invalid_grant)."

    lost = _warnings({LINK: {"state": "not_linked", "reason": reason}})

    assert lost == [PanelWarning(LINK_LOST_KIND, detail=reason)]
    assert _warnings({LINK: {"state": "not_linked", "reason": ""}}) == []
    assert _warnings({LINK: {"state": "linked", "account_name": "Acme"}}) == []


@pytest.mark.parametrize(("instances", "warned"), [(1, False), (2, True), ("3", False)])
def test_more_than_one_gateway_instance_is_a_warning(
    instances: object, warned: bool
) -> None:
    found = _warnings({GATEWAY: {"installed": True, "instances": instances}})

    assert found == ([PanelWarning(GATEWAYS_KIND, count=2)] if warned else [])


def test_a_cloud_unmeasured_for_long_is_unreachable() -> None:
    last = NOW - timedelta(minutes=31)
    state = {TUNNEL_STATUS: {"state": "online"}, CLOCK_DRIFT: _drift(0.2, last)}

    assert _warnings(state) == [PanelWarning(UNREACHABLE_KIND, since=last)]


def test_a_recent_measurement_or_a_stopped_tunnel_service_says_nothing() -> None:
    recent = {TUNNEL_STATUS: {"state": "online"}, CLOCK_DRIFT: _drift(0.2)}
    old = _drift(0.2, NOW - timedelta(hours=5))
    stopped = {TUNNEL_STATUS: {"state": "offline"}, CLOCK_DRIFT: old}

    assert _warnings(recent) == []
    assert _warnings(stopped) == []


def test_a_long_measurement_interval_waits_for_three_missed_measurements() -> None:
    last = NOW - timedelta(minutes=50)
    state = {TUNNEL_STATUS: {"state": "online"}, CLOCK_DRIFT: _drift(0.2, last)}

    assert warnings(state, NOW, check_interval=1200) == []
    assert warnings(state, NOW, check_interval=900) != []


def test_the_dashboard_shows_the_drift_warning_in_the_readers_language(
    logged_in: FlaskClient, live: LiveState
) -> None:
    assert 'class="panel warnings"' not in logged_in.get("/cld/").get_data(as_text=True)

    live.update(CLOCK_DRIFT, {"drift_seconds": -73.6})
    page = logged_in.get("/cld/").get_data(as_text=True)
    french = logged_in.get("/cld/", headers={"Accept-Language": "fr"})

    assert (
        "The system time is incorrect. This can cause connection problems. "
        "Clock drift detected: 74s"
    ) in page
    assert "Décalage d'horloge détecté : 74 s" in french.get_data(as_text=True)
