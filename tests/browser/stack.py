"""The whole daemon beside the emulator and the relay, for the browser tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.browser.local_interface import LocalInterface
from tests.integration.ui.conftest import Dashboard
from tests.support.processes import Cloud, Relay
from tests.support.stacks import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    Tunnel,
    fake_testbox,
    linked_daemon,
)

__all__ = ["ADMIN_EMAIL", "ADMIN_PASSWORD", "Stack", "stack"]


@dataclass
class Stack:
    """The running parts a browser test talks to."""

    cloud: Cloud
    relay: Relay
    dashboard: Dashboard
    interface: LocalInterface


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Broker, emulator, relay, a linked daemon and its dashboard, started once.

    Starting them takes a while, so the tests of a module share one set.
    """

    workdir = tmp_path_factory.mktemp("stack")
    interface = LocalInterface(workdir / "interface")
    interface.start()
    admin = Tunnel("admin", interface.address, "Test PBX web administration")
    settings = {
        **fake_testbox(workdir, [admin], zone="Europe/Stockholm"),
        "CLD_INVENTORY_DEBOUNCE": "0.5",
    }

    try:
        with linked_daemon(
            workdir, ("inventory", "updater", "tunnel"), settings
        ) as daemon:
            dashboard = Dashboard(daemon.env, workdir)
            dashboard.add_account()

            try:
                dashboard.start()
                yield Stack(daemon.cloud, daemon.relay, dashboard, interface)
            finally:
                dashboard.stop()
    finally:
        interface.stop()
