"""The tunnel list follows components installed and removed on the host."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cld.v1 import tunnel_pb2 as pb

from tests.integration.tunnel.conftest import Tunnels
from tests.integration.tunnel.origin import Origin
from tests.support.processes import Relay, Service, wait_for

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
local_address = "{origin}"
description = "Test PBX administration"

[[components]]
id = "vmail"
name = "Test voice mail"
detect = {{ any = [ {{ file = "opt/vmail/VERSION" }} ] }}

[[components.tunnels]]
name = "web"
local_address = "{origin}"
description = "Voice mail administration"
"""

ADMIN = ("pbx", "admin")
VMAIL = ("vmail", "web")
VMAIL_FILE = "opt/vmail/VERSION"


@pytest.fixture
def host(tmp_path: Path, origin: Origin) -> tuple[Path, dict[str, str]]:
    """A Test Box host root without voice mail, and its profile folder."""

    root = tmp_path / "followed-host"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "testbox-release").write_text("Test Box 1.0\n")
    platforms = tmp_path / "followed-platforms"
    platforms.mkdir()
    (platforms / "testbox.toml").write_text(PROFILE.format(origin=origin.address))
    return root, {"CLD_HOST_ROOT": str(root), "CLD_PLATFORMS_DIR": str(platforms)}


@pytest.fixture
def followed(
    tmp_path: Path,
    tunnel_env: dict[str, str],
    host: tuple[Path, dict[str, str]],
    linked: Service,
    relay: Relay,
) -> Iterator[Tunnels]:
    """The inventory service rescanning every second, and the tunnel service."""

    env = {**tunnel_env, **host[1], "CLD_INVENTORY_RESCAN": "1"}
    inventory = Service("inventory", env, tmp_path / "daemon")
    inventory.start()
    tunnel = Service("tunnel", env, tmp_path / "daemon")
    tunnel.start()
    yield Tunnels(tunnel, relay)
    tunnel.stop()
    inventory.stop()


def listed(tunnels: Tunnels) -> dict[tuple[str, str], int]:
    reply = tunnels.stub.ListTunnels(pb.ListTunnelsRequest(), timeout=5)
    return {(t.component, t.name): t.state for t in reply.tunnels}


def serves(tunnels: Tunnels, key: tuple[str, str], token: str) -> int:
    return requests.get(
        f"{tunnels.relay.public_url}/hello",
        headers={"Host": tunnels.host(key), "Authorization": f"Bearer {token}"},
        timeout=10,
    ).status_code


def test_a_component_installed_and_removed_brings_and_takes_its_tunnels(
    followed: Tunnels, host: tuple[Path, dict[str, str]], acme_token: str
) -> None:
    root = host[0]
    tunnels = followed
    assert listed(tunnels) == {ADMIN: pb.TUNNEL_STATE_STOPPED}
    tunnels.start(ADMIN)
    tunnels.wait_state(pb.TUNNEL_STATE_STARTED, ADMIN)

    (root / VMAIL_FILE).parent.mkdir(parents=True)
    (root / VMAIL_FILE).write_text("2.0\n")

    wait_for(lambda: VMAIL in listed(tunnels), 20, "the new component's tunnel")
    assert listed(tunnels) == {
        ADMIN: pb.TUNNEL_STATE_STARTED,
        VMAIL: pb.TUNNEL_STATE_STOPPED,
    }
    tunnels.start(VMAIL)
    tunnels.wait_state(pb.TUNNEL_STATE_STARTED, VMAIL)
    vmail_host = tunnels.host(VMAIL)
    assert serves(tunnels, VMAIL, acme_token) == 200

    (root / VMAIL_FILE).unlink()

    wait_for(lambda: VMAIL not in listed(tunnels), 20, "the tunnel to disappear")
    assert listed(tunnels) == {ADMIN: pb.TUNNEL_STATE_STARTED}
    assert serves(tunnels, ADMIN, acme_token) == 200
    gone = requests.get(
        f"{tunnels.relay.public_url}/hello",
        headers={"Host": vmail_host, "Authorization": f"Bearer {acme_token}"},
        timeout=10,
    )
    assert gone.status_code in (404, 502)

    # Installed again, it comes back stopped: its earlier start is not kept.
    (root / VMAIL_FILE).write_text("2.1\n")
    wait_for(lambda: VMAIL in listed(tunnels), 20, "the tunnel to come back")
    assert listed(tunnels)[VMAIL] == pb.TUNNEL_STATE_STOPPED
