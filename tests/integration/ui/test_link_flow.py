"""Linking through the cloud emulator's sign-in page, as a browser does."""

from __future__ import annotations

from pathlib import Path

import requests

from services.ui.backends import NOT_ANSWERING
from tests.integration.ui.conftest import Dashboard, csrf_token, log_in, press
from tests.support.processes import Cloud, Service


def _sign_in_page(
    browser: requests.Session, dashboard: Dashboard, page: str
) -> tuple[str, str]:
    """Presses "Link to CloudLink"; returns the sign-in page's address and HTML."""

    assert "Link to CloudLink" in page
    sign_in = press(browser, dashboard, page, "link")
    assert sign_in.status_code == 200
    assert "/authorize?" in sign_in.url
    assert "Sign in to CloudLink" in sign_in.text
    return sign_in.url, sign_in.text


def test_link_and_unlink_through_the_cloud_sign_in_page(
    tmp_path: Path, env: dict[str, str], registration: Service
) -> None:
    dashboard = Dashboard(env, tmp_path)
    dashboard.add_account()
    dashboard.start()
    browser = requests.Session()

    try:
        page = log_in(browser, dashboard)

        url, form = _sign_in_page(browser, dashboard, page)
        cancelled = browser.post(
            url,
            data={"csrf_token": csrf_token(form), "action": "cancel"},
            timeout=10,
        )
        assert cancelled.url == f"{dashboard.url}/"
        assert "Linking was cancelled" in cancelled.text

        url, form = _sign_in_page(browser, dashboard, cancelled.text)
        linked = browser.post(
            url,
            data={
                "csrf_token": csrf_token(form),
                "action": "sign_in",
                "username": "admin@acme.example",
                "password": "acme-admin-1",
            },
            timeout=30,
        )
        assert linked.url == f"{dashboard.url}/"
        assert "Linked to CloudLink account Acme Dental" in linked.text
        assert "Disconnect from CloudLink" in linked.text
        assert "100001" in linked.text

        unlinked = press(browser, dashboard, linked.text, "unlink")
        assert unlinked.url == f"{dashboard.url}/"
        assert "Disconnected from CloudLink" in unlinked.text
        assert "Link to CloudLink" in unlinked.text
    finally:
        dashboard.stop()


def test_a_cloud_outage_while_linking_shows_the_services_reason(
    tmp_path: Path, env: dict[str, str], cloud: Cloud, registration: Service
) -> None:
    dashboard = Dashboard(env, tmp_path)
    dashboard.add_account()
    dashboard.start()
    browser = requests.Session()

    try:
        page = log_in(browser, dashboard)
        url, form = _sign_in_page(browser, dashboard, page)
        signed_in = browser.post(
            url,
            data={
                "csrf_token": csrf_token(form),
                "action": "sign_in",
                "username": "admin@acme.example",
                "password": "acme-admin-1",
            },
            allow_redirects=False,
            timeout=10,
        )
        callback = signed_in.headers["Location"]
        assert callback.startswith(f"{dashboard.url}/link/callback?")

        # The code comes back while the cloud is gone: the registration
        # service answers, with its own reason, which the page must show
        # rather than blame the service.
        cloud.stop()
        result = browser.get(callback, timeout=30)

        assert result.url == f"{dashboard.url}/"
        assert "Nothing was changed; try again." in result.text
        assert NOT_ANSWERING not in result.text
        assert "Link to CloudLink" in result.text
    finally:
        dashboard.stop()
