"""The Provisioning panel after Provisioning Manager synchronised through the API."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import screenshot
from tests.integration.ui.conftest import PASSWORD, USER, Dashboard
from tests.integration.ui.test_provisioning_api import (
    ADA,
    ApiStack,
    add_api_client,
    link,
    pm_session,
    wait_for_sync,
)
from tests.support.processes import Cloud, Service

# The dashboard polls its panels every few seconds; a loaded machine may
# need a few rounds before a change shows.
LIVE = 30_000

USERS = [
    {**ADA, "extension": "2001", "firstName": "Grace", "email": "grace@acme.example"},
    {**ADA, "extension": "2002", "firstName": "Edsger", "email": "edsger@acme.example"},
    {
        **ADA,
        "extension": "2003",
        "firstName": "Barbara",
        "email": "barbara@acme.example",
    },
    {**ADA, "extension": "2004", "firstName": "Alan", "email": "alan(at)acme.example"},
]


@pytest.fixture
def api_stack(
    tmp_path: Path, env: dict[str, str], registration: Service, cloud: Cloud
) -> Iterator[ApiStack]:
    """A linked MX-ONE system's dashboard, with an API client for PM."""

    host = tmp_path / "host"
    version = host / "etc/opt/eri_sn/mxone_version"
    version.parent.mkdir(parents=True)
    version.write_text("MX-ONE 7.6.1\n")
    link(registration)

    dashboard = Dashboard({**env, "CLD_HOST_ROOT": str(host)}, tmp_path)
    dashboard.add_account()
    add_api_client(dashboard.env)
    dashboard.start()
    yield ApiStack(dashboard, registration, cloud, pm_session())
    dashboard.stop()


def _synchronise(stack: ApiStack, users: list[dict[str, object]]) -> None:
    started = stack.pm.post(
        f"{stack.api}/synchronizations", json={"users": users}, timeout=30
    )
    assert started.status_code == 202, started.text
    wait_for_sync(stack, started.headers["Location"])


def _value(page: Page, label: str) -> Locator:
    return page.locator(f"#panel-provisioning dt:text-is('{label}') + dd")


def test_the_panel_shows_pms_synchronisation_and_its_rejections(
    page: Page, api_stack: ApiStack
) -> None:
    _synchronise(api_stack, USERS)

    page.goto(f"{api_stack.dashboard.url}/")
    expect(page).to_have_url(re.compile(r"/cld/login"))
    page.locator("#username").fill(USER)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    panel = page.locator("#panel-provisioning")
    expect(panel.get_by_role("heading", name="Provisioning")).to_be_visible()
    expect(_value(page, "Provisioned users")).to_have_text("3 of 5000")
    expect(_value(page, "Users in the list")).to_have_text("4")
    expect(_value(page, "Created")).to_have_text("3")
    expect(_value(page, "Rejected")).to_have_text("1")
    expect(_value(page, "Last full synchronization")).not_to_have_text("Never")
    expect(panel.get_by_text("The debug view lists the rejected users")).to_be_visible()
    panel.scroll_into_view_if_needed()
    screenshot(page, "provisioning-standard")

    page.get_by_role("button", name="Switch to debug view").click()
    rejected = page.locator("#panel-provisioning table.rejected-users tbody tr")
    expect(rejected).to_have_count(1)
    expect(rejected.first).to_contain_text("2004")
    expect(rejected.first).to_contain_text("INVALID_EMAIL")
    expect(rejected.first).to_contain_text("alan(at)acme.example")
    page.locator("#panel-provisioning").scroll_into_view_if_needed()
    screenshot(page, "provisioning-debug")

    # PM drops a user and fixes another; the open page follows by itself.
    fixed = {**USERS[3], "email": "alan@acme.example"}
    _synchronise(api_stack, [*USERS[1:3], fixed])

    expect(_value(page, "Removed")).to_have_text("1", timeout=LIVE)
    expect(_value(page, "Created")).to_have_text("1")
    expect(_value(page, "Unchanged")).to_have_text("2")
    expect(rejected).to_have_count(0)
