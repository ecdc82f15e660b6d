"""The inventory, update and tunnel panels as an administrator uses them."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.browser.local_interface import TITLE
from tests.browser.stack import ADMIN_EMAIL, ADMIN_PASSWORD, Stack
from tests.integration.ui.conftest import PASSWORD, USER

# The dashboard polls its panels every few seconds; a loaded machine may
# need a few rounds before a change shows.
LIVE = 30_000


def _log_in(page: Page, stack: Stack, view: str = "standard") -> None:
    dashboard = stack.dashboard
    page.goto(f"{dashboard.url}/")
    expect(page).to_have_url(re.compile(r"/cld/login"))
    page.locator("#username").fill(USER)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{dashboard.url}/")

    if view == "debug":
        page.get_by_role("button", name="Switch to debug view").click()
        expect(
            page.get_by_role("heading", name="Dashboard (debug view)")
        ).to_be_visible()


def test_preview_and_submit_an_inventory_report(page: Page, stack: Stack) -> None:
    _log_in(page, stack, view="debug")
    panel = page.locator("#panel-inventory")
    expect(
        panel.get_by_role("heading", name="Inventory Report Submission")
    ).to_be_visible()

    panel.get_by_role("link", name="Preview inventory report").click()
    expect(page.get_by_role("heading", name="Inventory report preview")).to_be_visible()
    report = page.locator("pre.report")
    expect(report).to_contain_text('"name": "Test Box"')
    expect(report).to_contain_text('"localAddress": "' + stack.interface.address)
    screenshot(page, "inventory-preview")

    page.get_by_role("link", name="Back to the dashboard").click()
    page.locator("#panel-inventory").get_by_role(
        "button", name="Submit inventory report"
    ).click()
    expect(page.get_by_role("status").filter(has_text="Submitted")).to_be_visible()
    last = page.locator("#panel-inventory dt:text('Last submission') + dd")
    expect(last).not_to_have_text("Never")
    screenshot(page, "inventory-submitted")


def test_reschedule_and_pause_updates(page: Page, stack: Stack) -> None:
    _log_in(page, stack)
    panel = page.locator("#panel-update")
    expect(panel.locator(".schedule")).to_contain_text("Every day at")
    expect(panel).to_contain_text("Updates cannot be turned off")

    panel.get_by_label("Repeat").select_option("weekly")
    panel.get_by_label("Day of the week (weekly only)").select_option(label="Wednesday")
    panel.get_by_label("Time").fill("04:30")
    panel.get_by_role("button", name="Reschedule").click()
    expect(page.get_by_text("The update schedule was changed")).to_be_visible()
    panel = page.locator("#panel-update")
    expect(panel.locator(".schedule")).to_contain_text(
        "Every week on Wednesday at 04:30"
    )
    expect(panel.locator(".schedule")).not_to_contain_text("the default")

    panel.get_by_role("button", name="Pause updates").click()
    expect(page.get_by_text("Updates are paused")).to_be_visible()
    panel = page.locator("#panel-update")
    expect(panel.get_by_role("button", name="Resume updates")).to_be_visible()
    expect(panel.locator("dt:text('Updates') + dd")).to_have_text("Paused")
    screenshot(page, "update-rescheduled-and-paused")

    panel.get_by_role("button", name="Resume updates").click()
    expect(page.get_by_text("Updates are resumed")).to_be_visible()


def test_start_a_tunnel_open_it_from_the_admin_page_and_stop_all(
    page: Page, stack: Stack
) -> None:
    _log_in(page, stack, view="debug")
    row = page.locator("#panel-tunnels tr.tunnel").filter(has_text="admin")
    expect(row).to_contain_text("Test PBX")
    expect(row).to_contain_text("Stopped")

    row.get_by_role("button", name="Start admin").click()
    row = page.locator("#panel-tunnels tr.tunnel").filter(has_text="admin")
    expect(row).to_contain_text("Started", timeout=LIVE)
    public = page.locator("#panel-tunnels a[href*='.eu.relay.localhost']")
    expect(public).to_be_visible(timeout=LIVE)
    expect(page.locator("#panel-tunnels")).to_contain_text("Connected")
    screenshot(page, "tunnels-started")

    # The emulator's admin page lists the tunnel from the system's latest
    # report once the report with the started tunnel is stored.
    admin = page.context.new_page()
    admin.goto(f"{stack.cloud.url}/admin")
    admin.get_by_label("E-mail address").fill(ADMIN_EMAIL)
    admin.get_by_label("Password").fill(ADMIN_PASSWORD)
    admin.get_by_role("button", name="Sign in").click()
    opener = admin.get_by_role("button", name="Open pbx/admin")
    expect(opener).to_be_visible()
    screenshot(admin, "cloud-admin-tunnels")

    opener.click()
    expect(admin.get_by_role("heading", name=TITLE)).to_be_visible()
    assert re.match(r"http://[0-9a-f-]{36}\.eu\.relay\.localhost:\d+/$", admin.url)
    screenshot(admin, "tunnel-local-interface")
    admin.close()

    log = page.locator("#panel-tunnels table.access-log")
    expect(log).to_contain_text("pbx/admin", timeout=LIVE)
    expect(log).to_contain_text("200")
    screenshot(page, "tunnels-access-log")

    page.locator("#panel-tunnels").get_by_role("button", name="Stop all").click()
    row = page.locator("#panel-tunnels tr.tunnel").filter(has_text="admin")
    expect(row).to_contain_text("Stopped", timeout=LIVE)
    expect(page.locator("#panel-tunnels")).to_contain_text("Idle", timeout=LIVE)
    screenshot(page, "tunnels-stopped")
