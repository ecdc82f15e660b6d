"""The daily report's time: per system, in the host's zone, shown by the dashboard."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from babel.dates import format_datetime

from services.inventory.schedule import daily_time
from tests.integration.inventory.conftest import Inventory
from tests.integration.ui.conftest import Dashboard, log_in
from tests.support.fakehosts import write
from tests.support.processes import Cloud, Service, wait_for


def next_daily_report(inventory: Inventory) -> datetime:
    """The next submission once the link's report is delivered."""

    inventory.wait_reports(1)
    wait_for(lambda: inventory.status().outbox_depth == 0, 10, "an empty outbox")
    status = inventory.status()
    assert status.HasField("next_submission")
    return status.next_submission.ToDatetime(tzinfo=UTC)


@pytest.fixture
def zoned_inventory(
    tmp_path: Path,
    inventory_env: dict[str, str],
    host: Path,
    registration: Service,
    cloud: Cloud,
) -> Iterator[Callable[[str, dict[str, str]], Inventory]]:
    """Starts the inventory service on a host in a zone, with more settings."""

    started: list[Inventory] = []

    def start(zone: str, settings: dict[str, str]) -> Inventory:
        write(host, "etc/timezone", f"{zone}\n")
        inventory = Inventory({**inventory_env, **settings}, tmp_path / "daemon", cloud)
        started.append(inventory)
        inventory.start()
        return inventory

    yield start

    for inventory in started:
        inventory.stop()


def test_each_system_reports_at_its_own_time_in_the_host_zone(
    zoned_inventory: Callable[[str, dict[str, str]], Inventory],
) -> None:
    inventory = zoned_inventory("America/New_York", {})

    link = inventory.link()
    moment = next_daily_report(inventory)

    shown = moment.astimezone(ZoneInfo("America/New_York"))
    assert shown.time() == daily_time(link.system_id, None)
    assert timedelta(0) < moment - datetime.now(UTC) <= timedelta(hours=25)


def test_a_configured_time_is_the_host_wall_time_the_dashboard_shows(
    tmp_path: Path, zoned_inventory: Callable[[str, dict[str, str]], Inventory]
) -> None:
    zone = ZoneInfo("Pacific/Auckland")
    settings = {"CLD_INVENTORY_DAILY_AT": "04:30", "CLD_UI_LANGUAGE": "en"}
    inventory = zoned_inventory("Pacific/Auckland", settings)
    dashboard = Dashboard(inventory.env, tmp_path)
    dashboard.add_account()

    try:
        dashboard.start()
        inventory.link()
        moment = next_daily_report(inventory)
        page = log_in(requests.Session(), dashboard)
    finally:
        dashboard.stop()

    assert moment.astimezone(zone).time() == time(4, 30)
    assert format_datetime(moment, "medium", tzinfo=zone, locale="en") in page
