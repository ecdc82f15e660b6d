"""The whole daemon beside the emulator and the relay, for the browser tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cld.v1 import registration_pb2 as reg_pb
from cld.v1 import registration_pb2_grpc as reg_grpc

from services.common import rpc
from tests.browser.local_interface import LocalInterface
from tests.integration.ui.conftest import Dashboard
from tests.support.processes import (
    Broker,
    Cloud,
    Process,
    Relay,
    Service,
    daemon_env,
    wait_for,
)

PROFILE = """
id = "testbox"
name = "Test Box"
detect = {{ all = [ {{ file = "etc/testbox-release" }} ] }}

[[components]]
id = "pbx"
name = "Test PBX"
detect = {{ any = [ {{ file = "etc/testbox-release" }} ] }}

[[components.tunnels]]
name = "admin"
local_address = "{address}"
description = "Test PBX web administration"
"""

ADMIN_EMAIL = "admin@acme.example"
ADMIN_PASSWORD = "acme-admin-1"

# Every part answers within seconds on an idle machine; a loaded one (image
# builds run beside the tests) gets more.
START_TIMEOUT = 60


@dataclass
class Stack:
    """The running parts a browser test talks to."""

    cloud: Cloud
    relay: Relay
    dashboard: Dashboard
    interface: LocalInterface


def _fake_host(workdir: Path, interface: LocalInterface) -> dict[str, str]:
    root = workdir / "host"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "testbox-release").write_text("Test Box 1.0\n")
    (root / "etc" / "timezone").write_text("Europe/Stockholm\n")
    platforms = workdir / "platforms"
    platforms.mkdir()
    (platforms / "testbox.toml").write_text(PROFILE.format(address=interface.address))
    return {"CLD_HOST_ROOT": str(root), "CLD_PLATFORMS_DIR": str(platforms)}


def _link(registration: Service) -> None:
    stub = reg_grpc.RegistrationStub(
        rpc.channel(registration.runtime_dir, "registration")
    )
    stub.LinkWithPassword(
        reg_pb.LinkWithPasswordRequest(username=ADMIN_EMAIL, password=ADMIN_PASSWORD),
        timeout=30,
    )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Broker, emulator, relay, a linked daemon and its dashboard, started once.

    Starting them takes a while, so the tests of a module share one set.
    """

    workdir = tmp_path_factory.mktemp("stack")
    broker = Broker(workdir / "mosquitto")
    cloud = Cloud(workdir / "cloud")
    relay = Relay(workdir / "relay", cloud.url)

    # The admin page's remote-access links lead to this relay's tunnels.
    cloud.env["CLD_CLOUD_RELAY_URL"] = relay.url_template
    interface = LocalInterface(workdir / "interface")
    interface.start()
    parts: list[Process] = []

    try:
        for part in (broker, cloud, relay):
            part.start()
            parts.append(part)

        env = {
            **daemon_env(workdir / "daemon", broker.port, cloud.url),
            **_fake_host(workdir, interface),
            "CLD_TUNNEL_RELAY": f"127.0.0.1:{relay.daemon_port}",
            "CLD_TUNNEL_RELAY_CA_FILE": str(relay.ca_file),
            "CLD_INVENTORY_DEBOUNCE": "0.5",
        }
        registration = Service("registration", env, workdir / "daemon")
        registration.start()
        parts.append(registration)
        _link(registration)

        # Started together and awaited together: each takes a second or two.
        services = [
            Service(n, env, workdir / "daemon")
            for n in ("inventory", "updater", "tunnel")
        ]

        for service in services:
            Process.start(service)
            parts.append(service)

        for service in services:
            wait_for(service.healthy, START_TIMEOUT, f"{service.name} to serve health")

        dashboard = Dashboard(env, workdir)
        dashboard.add_account()
        dashboard.start()
        parts.append(dashboard)
        yield Stack(cloud, relay, dashboard, interface)
    finally:
        for part in reversed(parts):
            part.stop()

        interface.stop()
