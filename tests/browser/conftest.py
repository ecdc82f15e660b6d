"""A real browser (Debian's chromium, driven by Playwright) on the real stack."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from tests.browser.stack import stack
from tests.integration.ui.conftest import Dashboard
from tests.support.processes import ROOT, Broker, Service

CHROMIUM = Path("/usr/bin/chromium")

# Debian's chromium as root in a container: no sandbox, no GPU, and nothing
# that reaches out to the network on its own.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # Tunnels' public hosts are <label>.eu.relay.localhost: always loopback,
    # whatever the machine's resolver makes of them.
    "--host-resolver-rules=MAP *.localhost 127.0.0.1",
]

ARTIFACTS = ROOT / "test-artifacts"

__all__ = ["stack"]


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    """Headless chromium with a fresh profile: no cookies from another test."""

    assert CHROMIUM.exists(), "chromium is missing: run `make setup`"

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=FLAGS,
            viewport={"width": 1280, "height": 860},
        )
        context.set_default_timeout(15_000)
        yield context.pages[0] if context.pages else context.new_page()
        context.close()


@pytest.fixture
def dashboard(
    tmp_path: Path, env: dict[str, str], registration: Service, mosquitto: Broker
) -> Iterator[Dashboard]:
    """The real dashboard beside the real registration service and broker."""

    (tmp_path / "host").mkdir()
    running = Dashboard({**env, "CLD_HOST_ROOT": str(tmp_path / "host")}, tmp_path)
    running.add_account()
    running.start()
    yield running
    running.stop()


def screenshot(page: Page, name: str) -> Path:
    """Saves what the browser shows as test-artifacts/NAME.png."""

    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
