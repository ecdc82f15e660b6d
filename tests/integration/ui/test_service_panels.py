"""The inventory and update panels' refusals, from the real services."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.integration.ui.conftest import Dashboard, csrf_token, log_in
from tests.support.processes import Process, Service, wait_for


@pytest.fixture
def dashboard(
    tmp_path: Path, env: dict[str, str], registration: Service
) -> Iterator[Dashboard]:
    """The dashboard beside a real, unlinked inventory and updater."""

    services = [Service(n, env, tmp_path / "daemon") for n in ("inventory", "updater")]

    for service in services:
        Process.start(service)

    running = Dashboard(env, tmp_path)

    try:
        for service in services:
            wait_for(service.healthy, 60, f"{service.name} to serve health")

        running.add_account()
        running.start()
        yield running
    finally:
        running.stop()

        for service in services:
            service.stop()


def _post(
    browser: requests.Session, dashboard: Dashboard, action: str, **form: str
) -> str:
    page = browser.get(f"{dashboard.url}/", timeout=10).text
    answer = browser.post(
        f"{dashboard.url}/{action}",
        data={"csrf_token": csrf_token(page), **form},
        timeout=30,
    )
    assert answer.url == f"{dashboard.url}/"
    return html.unescape(answer.text)


def test_unlinked_reports_and_out_of_range_schedules_are_explained(
    dashboard: Dashboard,
) -> None:
    browser = requests.Session()
    page = html.unescape(log_in(browser, dashboard))

    assert "Last submission</dt>\n    <dd>Never" in page
    assert "Not linked" in page
    assert "Every day at" in page

    preview = browser.get(f"{dashboard.url}/inventory/preview", timeout=10)
    assert "This system is not linked to CloudLink." in preview.text

    submitted = _post(browser, dashboard, "inventory/submit")
    assert "This system is not linked to CloudLink." in submitted

    refused = _post(
        browser, dashboard, "update/reschedule", recurrence="daily", time="25:00"
    )
    assert "The schedule was not changed: hour must be 0 to 23, not 25" in refused

    weekly = _post(
        browser,
        dashboard,
        "update/reschedule",
        recurrence="weekly",
        weekday="5",
        time="02:15",
    )
    assert "The update schedule was changed" in weekly
    assert "Every week on Friday at 02:15" in weekly

    paused = _post(browser, dashboard, "update/pause")
    assert "Updates are paused" in paused
    assert 'action="/cld/update/resume"' in paused
