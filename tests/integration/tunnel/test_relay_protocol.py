"""The relay's daemon endpoint against hand-made and malformed frames."""

from __future__ import annotations

import contextlib
import ssl
import uuid
from collections.abc import Iterator

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.tunnel import messages, wire
from services.tunnel.messages import Hello, TunnelEntry
from services.tunnel.wire import Kind
from tests.integration.tunnel.conftest import access_token
from tests.integration.tunnel.rawdaemon import RawPeer
from tests.support.processes import Cloud, Relay, port_open

TUNNELS = (TunnelEntry("pbx", "admin", True),)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cloud, Relay]]:
    workdir = tmp_path_factory.mktemp("relay-protocol")
    cloud = Cloud(workdir / "cloud")
    cloud.start()
    relay = Relay(workdir / "relay", cloud.url)
    relay.start()
    yield cloud, relay
    relay.stop()
    cloud.stop()


def linked_system(cloud: Cloud, username: str, password: str) -> tuple[str, str]:
    """A token and the id of a system that token's sign-in linked."""

    token = access_token(cloud, username, password)
    reply = requests.post(
        f"{cloud.url}/2017-09-01/systems",
        json={"installationId": str(uuid.uuid4()), "name": "pbx1"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    reply.raise_for_status()
    return token, str(reply.json()["systemId"])


def hello(relay: Relay, token: str, system_id: str) -> tuple[RawPeer, wire.Frame]:
    peer = RawPeer.connect(relay.daemon_port, relay.ca_file)
    peer.send(Hello(token, system_id, TUNNELS).frame())
    answer = peer.receive()
    assert answer is not None
    return peer, answer


def test_a_linked_system_is_welcomed(world: tuple[Cloud, Relay]) -> None:
    cloud, relay = world
    token, system_id = linked_system(cloud, "admin@acme.example", "acme-admin-1")

    peer, answer = hello(relay, token, system_id)

    welcome = messages.parse_welcome(answer)
    assert welcome.public_url.startswith("http://{label}.eu.relay.localhost:")
    peer.send(wire.Frame(Kind.PING, 0, b"abcdefgh"))
    assert peer.receive() == wire.Frame(Kind.PONG, 0, b"abcdefgh")
    peer.close()


def test_a_reconnecting_daemon_replaces_its_stale_session(
    world: tuple[Cloud, Relay],
) -> None:
    cloud, relay = world
    token, system_id = linked_system(cloud, "admin@acme.example", "acme-admin-1")
    stale, _ = hello(relay, token, system_id)

    fresh, answer = hello(relay, token, system_id)

    assert answer.kind is Kind.WELCOME
    goodbye = stale.closed_after()
    assert goodbye[-1].kind is Kind.GOAWAY
    assert "replaced" in goodbye[-1].text()
    stale.close()
    fresh.close()


def test_another_sign_in_cannot_take_over_a_system(world: tuple[Cloud, Relay]) -> None:
    cloud, relay = world
    _, victim = linked_system(cloud, "admin@acme.example", "acme-admin-1")
    same_account, _ = linked_system(cloud, "admin@acme.example", "acme-admin-1")
    other_account, _ = linked_system(cloud, "admin@globex.example", "globex-admin-1")

    for token in (same_account, other_account, "not-a-token"):
        peer, answer = hello(relay, token, victim)

        assert answer.kind is Kind.GOAWAY
        assert peer.closed_after() == []
        peer.close()


@pytest.mark.parametrize(
    "data",
    [
        b"GET / HTTP/1.1\r\n\r\n",
        wire.HEADER.pack(Kind.DATA, 0, 1, 4) + b"data",
        wire.HEADER.pack(Kind.HELLO, 0, 0, 2**31),
        wire.encode(wire.control(Kind.TUNNELS, {"tunnels": []})),
    ],
    ids=["http", "data-first", "huge", "tunnels-first"],
)
def test_a_connection_that_does_not_start_with_hello_is_closed(
    world: tuple[Cloud, Relay], data: bytes
) -> None:
    _, relay = world
    peer = RawPeer.connect(relay.daemon_port, relay.ca_file)
    peer.send_raw(data)

    frames = peer.closed_after()
    peer.close()

    assert [f.kind for f in frames] == [Kind.GOAWAY]


@pytest.fixture(scope="module")
def acme_system(world: tuple[Cloud, Relay]) -> tuple[str, str]:
    return linked_system(world[0], "admin@acme.example", "acme-admin-1")


# Completes whatever frame the garbage left open, then starts one of an
# unknown kind, so every connection must end in a protocol error.
PADDING = b"\xff" * (wire.MAX_DATA + wire.HEADER_SIZE)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(garbage=st.binary(min_size=1, max_size=2048))
def test_malformed_frames_after_hello_close_that_connection_only(
    world: tuple[Cloud, Relay], acme_system: tuple[str, str], garbage: bytes
) -> None:
    _, relay = world
    peer, answer = hello(relay, *acme_system)
    assert answer.kind is Kind.WELCOME

    with contextlib.suppress(ConnectionError, ssl.SSLError):
        peer.send_raw(garbage + PADDING)

    frames = peer.closed_after()
    peer.close()

    assert {f.kind for f in frames} <= {Kind.GOAWAY, Kind.PONG}
    assert port_open(relay.daemon_port)
