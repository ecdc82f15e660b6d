"""The tunnel service obeys its profile, never a relay's wishes."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from cld.v1 import tunnel_pb2 as pb

from cloud.relay.certs import self_signed
from services.tunnel import messages, wire
from services.tunnel.messages import Open, Visitor, Welcome
from services.tunnel.wire import Kind
from tests.integration.tunnel.conftest import Tunnels
from tests.integration.tunnel.origin import Origin
from tests.integration.tunnel.rawdaemon import RawPeer
from tests.support.processes import Relay, Service, free_port


class FakeRelay:
    """A TLS listener that plays the relay by hand."""

    def __init__(self, workdir: Path) -> None:
        cert, key = self_signed(["127.0.0.1"])
        workdir.mkdir(parents=True, exist_ok=True)
        self.ca_file = workdir / "fake-relay.pem"
        self.ca_file.write_bytes(cert)
        (workdir / "fake-relay-key.pem").write_bytes(key)
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(self.ca_file, workdir / "fake-relay-key.pem")
        self.port = free_port()
        self.listener = socket.create_server(("127.0.0.1", self.port))
        self.listener.settimeout(20)

    def accept(self) -> RawPeer:
        raw, _ = self.listener.accept()
        raw.settimeout(10)
        return RawPeer(self.context.wrap_socket(raw, server_side=True))


@pytest.fixture
def fake_relay(tmp_path: Path) -> Iterator[FakeRelay]:
    relay = FakeRelay(tmp_path / "fake")
    yield relay
    relay.listener.close()


@pytest.fixture
def daemon(
    tmp_path: Path,
    tunnel_env: dict[str, str],
    linked: Service,
    fake_relay: FakeRelay,
    relay: Relay,
) -> Iterator[Tunnels]:
    env = {
        **tunnel_env,
        "CLD_TUNNEL_RELAY": f"127.0.0.1:{fake_relay.port}",
        "CLD_TUNNEL_RELAY_CA_FILE": str(fake_relay.ca_file),
    }
    service = Service("tunnel", env, tmp_path / "daemon")
    service.start()
    yield Tunnels(service, relay)
    service.stop()


VISITOR = Visitor("u1", "a1", "203.0.113.9")


def test_requests_outside_the_started_profile_tunnels_are_refused(
    daemon: Tunnels, fake_relay: FakeRelay, origin: Origin
) -> None:
    daemon.start()
    peer = fake_relay.accept()
    hello = messages.parse_hello(peer.receive())  # type: ignore[arg-type]
    assert [t.key for t in hello.tunnels if t.started] == [("pbx", "admin")]
    peer.send(Welcome("s1", "https://{label}.eu.relay.example", 30).frame())

    peer.send(Open("pbx", "elsewhere", VISITOR).frame(1))
    address_body = {
        "component": "pbx",
        "name": "admin",
        "visitor": {},
        "address": f"127.0.0.1:{origin.port}",
    }
    peer.send(wire.control(Kind.OPEN, address_body, 2))
    peer.send(Open("pbx", "closed", VISITOR).frame(3))
    peer.send(Open("pbx", "admin", VISITOR).frame(4))
    peer.send(wire.Frame(Kind.DATA, 4, b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"))

    resets: dict[int, str] = {}
    answer = b""

    while len(resets) < 3 or b"hello from the PBX" not in answer:
        frame = peer.receive()
        assert frame is not None

        if frame.kind is Kind.RESET:
            resets[frame.stream_id] = frame.text()
        elif frame.kind is Kind.DATA and frame.stream_id == 4:
            answer += frame.payload

    peer.close()

    assert "not a tunnel of this system's platform profile" in resets[1]
    assert "unexpected fields ['address']" in resets[2]
    assert "is stopped" in resets[3]
    assert 4 not in resets
    log = daemon.service.output()
    assert log.count("Refused stream") == 3


def test_a_relay_with_an_untrusted_certificate_is_not_used(
    tmp_path: Path,
    tunnel_env: dict[str, str],
    linked: Service,
    fake_relay: FakeRelay,
    relay: Relay,
) -> None:
    env = {**tunnel_env, "CLD_TUNNEL_RELAY": f"127.0.0.1:{fake_relay.port}"}
    service = Service("tunnel", env, tmp_path / "daemon")
    service.start()
    tunnels = Tunnels(service, relay)
    tunnels.start()

    with pytest.raises((ssl.SSLError, ConnectionError)):
        fake_relay.accept().receive()

    failed = tunnels.wait_state(pb.TUNNEL_STATE_FAILED)
    service.stop()

    assert "certificate" in failed.reason
