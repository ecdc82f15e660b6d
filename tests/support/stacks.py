"""A linked daemon beside the emulator and the relay, on a fake Test Box host.

Tests of the whole path (a browser on the dashboard, a visitor through a
tunnel) need the same parts started in the same order; this builds them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
from cld.v1 import registration_pb2 as reg_pb
from cld.v1 import registration_pb2_grpc as reg_grpc

from services.common import rpc
from tests.support.processes import (
    Broker,
    Cloud,
    Process,
    Relay,
    Service,
    daemon_env,
    wait_for,
)

ADMIN_EMAIL = "admin@acme.example"
ADMIN_PASSWORD = "acme-admin-1"

# Every part answers within seconds on an idle machine; a loaded one (image
# builds run beside the tests) gets more.
START_TIMEOUT = 60

PLATFORM = """
id = "testbox"
name = "Test Box"
detect = { all = [ { file = "etc/testbox-release" } ] }

[[components]]
id = "pbx"
name = "Test PBX"
detect = { any = [ { file = "etc/testbox-release" } ] }
"""

TUNNEL = """
[[components.tunnels]]
name = "{name}"
local_address = "{address}"
description = "{description}"
"""


@dataclass(frozen=True)
class Tunnel:
    """A tunnel the Test PBX offers: its name, local address and description."""

    name: str
    address: str
    description: str


def fake_testbox(
    workdir: Path, tunnels: Sequence[Tunnel], zone: str = ""
) -> dict[str, str]:
    """A host root running the Test Box platform, and its profile folder.

    Returns the settings that point the daemon at both.
    """

    root = workdir / "host"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "testbox-release").write_text("Test Box 1.0\n")

    if zone:
        (root / "etc" / "timezone").write_text(f"{zone}\n")

    platforms = workdir / "platforms"
    platforms.mkdir()
    profile = PLATFORM + "".join(
        TUNNEL.format(name=t.name, address=t.address, description=t.description)
        for t in tunnels
    )
    (platforms / "testbox.toml").write_text(profile)
    return {"CLD_HOST_ROOT": str(root), "CLD_PLATFORMS_DIR": str(platforms)}


def relay_env(relay: Relay) -> dict[str, str]:
    """The settings that send the tunnel service to ``relay``."""

    return {
        "CLD_TUNNEL_RELAY": f"127.0.0.1:{relay.daemon_port}",
        "CLD_TUNNEL_RELAY_CA_FILE": str(relay.ca_file),
    }


def link(
    registration: Service,
    username: str = ADMIN_EMAIL,
    password: str = ADMIN_PASSWORD,
) -> reg_pb.Link:
    """Links through the registration service, as the maintenance tool does."""

    stub = reg_grpc.RegistrationStub(
        rpc.channel(registration.runtime_dir, "registration")
    )
    return stub.LinkWithPassword(
        reg_pb.LinkWithPasswordRequest(username=username, password=password),
        timeout=30,
    )


def access_token(cloud: Cloud, username: str, password: str) -> str:
    """A user's access token from the emulator's token endpoint, by password."""

    return token_at(cloud.url, username, password)


def token_at(cloud_url: str, username: str, password: str) -> str:
    """A user's access token from the token endpoint at ``cloud_url``."""

    reply = requests.post(
        f"{cloud_url}/2017-09-01/token",
        data={
            "grant_type": "password",
            "username": username,
            "password": password,
            "client_id": "test",
        },
        timeout=10,
    )
    reply.raise_for_status()
    return str(reply.json()["access_token"])


@dataclass
class LinkedDaemon:
    """The running parts, and the settings the daemon's services run with."""

    broker: Broker
    cloud: Cloud
    relay: Relay
    env: dict[str, str]
    registration: Service
    services: dict[str, Service]


@contextmanager
def linked_daemon(
    workdir: Path, services: Sequence[str], settings: dict[str, str]
) -> Iterator[LinkedDaemon]:
    """Broker, emulator and relay, a linked registration, then ``services``.

    ``settings`` are added to the daemon's (the fake host's among them).
    Everything started is stopped on leaving, in reverse order, also when
    starting fails half-way.
    """

    broker = Broker(workdir / "mosquitto")
    cloud = Cloud(workdir / "cloud")
    relay = Relay(workdir / "relay", cloud.url)

    # The admin page's remote-access links lead to this relay's tunnels.
    cloud.env["CLD_CLOUD_RELAY_URL"] = relay.url_template
    env = {
        **daemon_env(workdir / "daemon", broker.port, cloud.url),
        **relay_env(relay),
        **settings,
    }

    with ExitStack() as parts:
        for part in (broker, cloud, relay):
            parts.callback(part.stop)
            part.start()

        registration = Service("registration", env, workdir / "daemon")
        parts.callback(registration.stop)
        registration.start()
        link(registration)

        # Started together and awaited together: each takes a second or two.
        started = {name: Service(name, env, workdir / "daemon") for name in services}

        for service in started.values():
            parts.callback(service.stop)
            Process.start(service)

        for service in started.values():
            wait_for(service.healthy, START_TIMEOUT, f"{service.name} to serve health")

        yield LinkedDaemon(broker, cloud, relay, env, registration, started)
