"""The dashboard as an administrator uses it, in a real browser."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from services.common.bus import Bus
from services.ui.live import CLOCK_DRIFT
from tests.browser.conftest import screenshot
from tests.integration.ui.conftest import PASSWORD, USER, Dashboard
from tests.support.processes import Broker

FRENCH_MX_ONE = {
    "etc/opt/eri_sn/mxone_version": "MX-ONE 7.6.1\n",
    "etc/sysconfig/language": 'RC_LANG="fr_FR.UTF-8"\n',
}


def _log_in(page: Page, dashboard: Dashboard, button: str = "Log in") -> None:
    page.goto(f"{dashboard.url}/")
    expect(page).to_have_url(re.compile(r"/cld/login"))
    page.locator("#username").fill(USER)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name=button).click()
    expect(page).to_have_url(f"{dashboard.url}/")


def test_log_in_link_switch_views_see_drift_and_log_out(
    page: Page, dashboard: Dashboard, mosquitto: Broker
) -> None:
    page.goto(f"{dashboard.url}/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    screenshot(page, "login")

    _log_in(page, dashboard)
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_role("button", name="Link to CloudLink")).to_be_visible()
    screenshot(page, "dashboard-not-linked")

    # "Link to CloudLink" leads to the emulator's sign-in page and back.
    page.get_by_role("button", name="Link to CloudLink").click()
    expect(page.get_by_label("E-mail address")).to_be_visible()
    screenshot(page, "cloud-sign-in")
    page.get_by_label("E-mail address").fill("admin@acme.example")
    page.get_by_label("Password").fill("acme-admin-1")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{dashboard.url}/")
    expect(page.get_by_text("Linked to CloudLink account Acme Dental")).to_be_visible()
    expect(page.get_by_text("100001")).to_be_visible()
    screenshot(page, "dashboard-standard")

    page.get_by_role("button", name="Switch to debug view").click()
    expect(page.get_by_role("heading", name="Dashboard (debug view)")).to_be_visible()
    expect(page.get_by_text("Account GUID")).to_be_visible()
    expect(page.get_by_text("Git commit")).to_be_visible()
    screenshot(page, "dashboard-debug")

    # The drift warning arrives through the bus while the page stays open:
    # a mark left on the page survives, so it was not reloaded.
    page.evaluate("window.stillTheSamePage = true")
    tunnel = Bus("tunnel", "127.0.0.1", mosquitto.port)
    tunnel.start()

    try:
        assert tunnel.wait_connected(5)
        tunnel.publish_state(CLOCK_DRIFT, {"drift_seconds": -73.6})
        warning = page.get_by_text("Clock drift detected: 74s")
        expect(warning).to_be_visible(timeout=15_000)
    finally:
        tunnel.stop()

    assert page.evaluate("window.stillTheSamePage") is True
    expect(page.get_by_role("button", name="Switch to standard view")).to_be_visible()
    screenshot(page, "dashboard-debug-drift-warning")

    page.get_by_role("button", name="Switch to standard view").click()
    expect(page.get_by_text("Account GUID")).to_have_count(0)

    page.get_by_role("link", name="Licenses").click()
    expect(page.get_by_role("heading", name="Third-party licenses")).to_be_visible()
    expect(page.get_by_role("cell", name="gunicorn", exact=True)).to_be_visible()
    screenshot(page, "licenses")
    page.get_by_role("link", name="Terms").click()
    expect(page.get_by_role("heading", name="Terms of use")).to_be_visible()
    screenshot(page, "terms")

    page.get_by_role("link", name="Back to the dashboard").click()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You are logged out.")).to_be_visible()
    page.goto(f"{dashboard.url}/")
    expect(page).to_have_url(re.compile(r"/cld/login"))


def test_a_french_host_gets_a_french_dashboard_with_its_platform_name(
    page: Page, tmp_path: Path, env: dict[str, str]
) -> None:
    host = tmp_path / "french-host"

    for name, text in FRENCH_MX_ONE.items():
        (host / name).parent.mkdir(parents=True, exist_ok=True)
        (host / name).write_text(text)

    dashboard = Dashboard({**env, "CLD_HOST_ROOT": str(host)}, tmp_path / "fr")
    dashboard.add_account()
    dashboard.start()

    try:
        _log_in(page, dashboard, button="Se connecter")
        expect(page.get_by_role("heading", name="Tableau de bord")).to_be_visible()
        expect(
            page.get_by_role("button", name="Passer à la vue de débogage")
        ).to_be_visible()
        expect(page).to_have_title("CloudLink Daemon \u2013 MiVoice MX-ONE")
        screenshot(page, "dashboard-french")
    finally:
        dashboard.stop()
