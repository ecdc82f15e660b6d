"""The real tunnel path: emulator, relay, registration, tunnel service, origin."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from cld.v1 import registration_pb2 as reg_pb
from cld.v1 import registration_pb2_grpc as reg_grpc
from cld.v1 import tunnel_pb2 as pb
from cld.v1 import tunnel_pb2_grpc as pb_grpc

from services.common import rpc
from tests.integration.tunnel.origin import Origin
from tests.support.processes import (
    Broker,
    Cloud,
    Relay,
    Service,
    daemon_env,
    free_port,
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
local_address = "{origin}"
description = "Test PBX administration"

[[components.tunnels]]
name = "closed"
local_address = "http://127.0.0.1:{closed}"
description = "An interface nobody serves"
"""

ADMIN = ("pbx", "admin")


def fake_host(workdir: Path, origin: Origin) -> dict[str, str]:
    """A host root running the test platform, and its profile folder."""

    root = workdir / "host"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "testbox-release").write_text("Test Box 1.0\n")
    platforms = workdir / "platforms"
    platforms.mkdir()
    (platforms / "testbox.toml").write_text(
        PROFILE.format(origin=origin.address, closed=free_port())
    )
    return {"CLD_HOST_ROOT": str(root), "CLD_PLATFORMS_DIR": str(platforms)}


def access_token(cloud: Cloud, username: str, password: str) -> str:
    """A visitor's access token from the emulator's token endpoint."""

    reply = requests.post(
        f"{cloud.url}/2017-09-01/token",
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
class Tunnels:
    """The tunnel service under test, with a client for its gRPC API."""

    service: Service
    relay: Relay

    @property
    def stub(self) -> pb_grpc.TunnelGatewayStub:
        return pb_grpc.TunnelGatewayStub(
            rpc.channel(self.service.runtime_dir, "tunnel")
        )

    def start(self, key: tuple[str, str] = ADMIN) -> pb.Tunnel:
        ref = pb.TunnelRef(component=key[0], name=key[1])
        return self.stub.StartTunnel(ref, timeout=5)

    def stop(self, key: tuple[str, str] = ADMIN) -> pb.Tunnel:
        ref = pb.TunnelRef(component=key[0], name=key[1])
        return self.stub.StopTunnel(ref, timeout=5)

    def tunnel(self, key: tuple[str, str] = ADMIN) -> pb.Tunnel:
        listing = self.stub.ListTunnels(pb.ListTunnelsRequest(), timeout=5)
        return next(t for t in listing.tunnels if (t.component, t.name) == key)

    def wait_state(self, state: int, key: tuple[str, str] = ADMIN) -> pb.Tunnel:
        wait_for(lambda: self.tunnel(key).state == state, 20, f"tunnel state {state}")
        return self.tunnel(key)

    def host(self, key: tuple[str, str] = ADMIN) -> str:
        """The Host header of a tunnel's public URL."""

        return urlsplit(self.tunnel(key).public_url).netloc


@pytest.fixture
def origin(tmp_path: Path) -> Iterator[Origin]:
    server = Origin(tmp_path / "origin")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def relay(tmp_path: Path, cloud: Cloud) -> Iterator[Relay]:
    server = Relay(tmp_path / "relay", cloud.url)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def tunnel_env(
    tmp_path: Path, env: dict[str, str], relay: Relay, origin: Origin
) -> dict[str, str]:
    return {
        **env,
        **fake_host(tmp_path, origin),
        "CLD_TUNNEL_RELAY": f"127.0.0.1:{relay.daemon_port}",
        "CLD_TUNNEL_RELAY_CA_FILE": str(relay.ca_file),
        "CLD_TUNNEL_DEAD_AFTER": "3",
        "CLD_TUNNEL_RETRY_MAX": "2",
    }


@pytest.fixture
def linked(tmp_path: Path, tunnel_env: dict[str, str]) -> Iterator[Service]:
    service = Service("registration", tunnel_env, tmp_path / "daemon")
    service.start()
    stub = reg_grpc.RegistrationStub(rpc.channel(service.runtime_dir, "registration"))
    stub.LinkWithPassword(
        reg_pb.LinkWithPasswordRequest(
            username="admin@acme.example", password="acme-admin-1"
        ),
        timeout=15,
    )
    yield service
    service.stop()


@pytest.fixture
def tunnels(
    tmp_path: Path, tunnel_env: dict[str, str], linked: Service, relay: Relay
) -> Iterator[Tunnels]:
    service = Service("tunnel", tunnel_env, tmp_path / "daemon")
    service.start()
    yield Tunnels(service, relay)
    service.stop()


@pytest.fixture
def acme_token(cloud: Cloud) -> str:
    return access_token(cloud, "admin@acme.example", "acme-admin-1")


@pytest.fixture
def globex_token(cloud: Cloud) -> str:
    return access_token(cloud, "admin@globex.example", "globex-admin-1")


@dataclass
class World:
    """One whole tunnel path shared by the tests of a module."""

    broker: Broker
    cloud: Cloud
    relay: Relay
    origin: Origin
    tunnels: Tunnels
    acme_token: str
    globex_token: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Broker, emulator, relay, origin, linked registration and tunnel service.

    Building them takes seconds, so the tests that only start and stop
    tunnels share one set per module; ``live`` puts it back as it was.
    """

    workdir = tmp_path_factory.mktemp("tunnel-world")
    broker = Broker(workdir / "mosquitto")
    cloud = Cloud(workdir / "cloud")
    origin = Origin(workdir / "origin")
    relay = Relay(workdir / "relay", cloud.url)
    parts: list[Broker | Cloud | Relay | Service] = []

    try:
        for part in (broker, cloud, relay):
            part.start()
            parts.append(part)

        origin.start()
        env = {
            **daemon_env(workdir / "daemon", broker.port, cloud.url),
            **fake_host(workdir, origin),
            "CLD_TUNNEL_RELAY": f"127.0.0.1:{relay.daemon_port}",
            "CLD_TUNNEL_RELAY_CA_FILE": str(relay.ca_file),
            "CLD_TUNNEL_DEAD_AFTER": "3",
            "CLD_TUNNEL_RETRY_MAX": "2",
        }
        registration = Service("registration", env, workdir / "daemon")
        registration.start()
        parts.append(registration)
        reg_grpc.RegistrationStub(
            rpc.channel(registration.runtime_dir, "registration")
        ).LinkWithPassword(
            reg_pb.LinkWithPasswordRequest(
                username="admin@acme.example", password="acme-admin-1"
            ),
            timeout=15,
        )
        service = Service("tunnel", env, workdir / "daemon")
        service.start()
        parts.append(service)
        yield World(
            broker,
            cloud,
            relay,
            origin,
            Tunnels(service, relay),
            access_token(cloud, "admin@acme.example", "acme-admin-1"),
            access_token(cloud, "admin@globex.example", "globex-admin-1"),
        )
    finally:
        for part in reversed(parts):
            part.stop()

        origin.stop()


@pytest.fixture
def live(world: World) -> Iterator[Tunnels]:
    """The shared tunnel service, every tunnel stopped again afterwards."""

    yield world.tunnels
    world.tunnels.stub.StopAllTunnels(pb.StopAllTunnelsRequest(), timeout=5)

    for key in (ADMIN, ("pbx", "closed")):
        world.tunnels.wait_state(pb.TUNNEL_STATE_STOPPED, key)
