"""The real tunnel path: emulator, relay, registration, tunnel service, origin."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from cld.v1 import tunnel_pb2 as pb
from cld.v1 import tunnel_pb2_grpc as pb_grpc

from services.common import rpc
from tests.integration.tunnel.origin import Origin
from tests.support.processes import Broker, Cloud, Relay, Service, free_port, wait_for
from tests.support.stacks import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    Tunnel,
    access_token,
    fake_testbox,
    link,
    linked_daemon,
    relay_env,
)

ADMIN = ("pbx", "admin")

# The daemon's settings for a tunnel service that notices trouble quickly.
QUICK = {"CLD_TUNNEL_DEAD_AFTER": "3", "CLD_TUNNEL_RETRY_MAX": "2"}


def fake_host(workdir: Path, origin: Origin) -> dict[str, str]:
    """A host root running the test platform, and its profile folder."""

    return fake_testbox(
        workdir,
        [
            Tunnel("admin", origin.address, "Test PBX administration"),
            Tunnel(
                "closed",
                f"http://127.0.0.1:{free_port()}",
                "An interface nobody serves",
            ),
        ],
    )


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
    return {**env, **fake_host(tmp_path, origin), **relay_env(relay), **QUICK}


@pytest.fixture
def linked(tmp_path: Path, tunnel_env: dict[str, str]) -> Iterator[Service]:
    service = Service("registration", tunnel_env, tmp_path / "daemon")
    service.start()
    link(service)
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
    origin = Origin(workdir / "origin")
    origin.start()

    try:
        settings = {**fake_host(workdir, origin), **QUICK}

        with linked_daemon(workdir, ("tunnel",), settings) as daemon:
            yield World(
                daemon.broker,
                daemon.cloud,
                daemon.relay,
                origin,
                Tunnels(daemon.services["tunnel"], daemon.relay),
                access_token(daemon.cloud, ADMIN_EMAIL, ADMIN_PASSWORD),
                access_token(daemon.cloud, "admin@globex.example", "globex-admin-1"),
            )
    finally:
        origin.stop()


@pytest.fixture
def live(world: World) -> Iterator[Tunnels]:
    """The shared tunnel service, every tunnel stopped again afterwards."""

    yield world.tunnels
    world.tunnels.stub.StopAllTunnels(pb.StopAllTunnelsRequest(), timeout=5)

    for key in (ADMIN, ("pbx", "closed")):
        world.tunnels.wait_state(pb.TUNNEL_STATE_STOPPED, key)
