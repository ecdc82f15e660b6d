"""Visitors reach a tunnel over HTTPS, with the relay's wildcard certificate."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from cld.v1 import tunnel_pb2 as pb

from cloud.relay.certs import self_signed
from tests.integration.tunnel.conftest import Tunnels
from tests.support.processes import Cloud, Relay

WILDCARD = "*.eu.relay.localhost"


@pytest.fixture
def wildcard(tmp_path: Path) -> Path:
    """A certificate for the public hosts only, and its key beside it."""

    cert, key = self_signed([WILDCARD])
    folder = tmp_path / "public-tls"
    folder.mkdir()
    (folder / "cert.pem").write_bytes(cert)
    (folder / "key.pem").write_bytes(key)
    return folder


@pytest.fixture
def relay(tmp_path: Path, cloud: Cloud, wildcard: Path) -> Iterator[Relay]:
    """The relay serving its public ingress over TLS with the wildcard."""

    server = Relay(tmp_path / "relay", cloud.url)
    server.env.update(
        {
            "CLD_RELAY_PUBLIC_TLS": "true",
            "CLD_RELAY_PUBLIC_SCHEME": "https",
            "CLD_RELAY_PUBLIC_TLS_CERT": str(wildcard / "cert.pem"),
            "CLD_RELAY_PUBLIC_TLS_KEY": str(wildcard / "key.pem"),
        }
    )
    server.start()
    yield server
    server.stop()


def https_get(port: int, hostname: str, host: str, token: str, ca: Path) -> bytes:
    """A GET /hello over TLS to 127.0.0.1, checking the name ``hostname``."""

    context = ssl.create_default_context(cafile=str(ca))
    request = (
        f"GET /hello HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()

    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=hostname) as tls,
    ):
        tls.sendall(request)
        answer = b""

        while data := tls.recv(65536):
            answer += data

    return answer


def test_a_visitor_reaches_a_tunnel_over_tls_with_the_wildcard_certificate(
    tunnels: Tunnels, relay: Relay, wildcard: Path, acme_token: str
) -> None:
    tunnels.start()
    tunnel = tunnels.wait_state(pb.TUNNEL_STATE_STARTED)
    url = urlsplit(tunnel.public_url)
    assert url.scheme == "https"
    assert url.hostname is not None
    assert url.hostname.endswith(".eu.relay.localhost")
    assert url.port == relay.public_port

    answer = https_get(
        relay.public_port, url.hostname, url.netloc, acme_token, wildcard / "cert.pem"
    )

    assert answer.startswith(b"HTTP/1.1 200")
    assert answer.endswith(b"hello from the PBX")


def test_the_public_certificate_covers_the_tunnel_hosts_and_nothing_else(
    relay: Relay, wildcard: Path
) -> None:
    with pytest.raises(ssl.SSLCertVerificationError, match="match"):
        https_get(
            relay.public_port,
            "relay.localhost",
            "relay.localhost",
            "no-token",
            wildcard / "cert.pem",
        )

    # The daemons' endpoint keeps the relay's own certificate.
    context = ssl.create_default_context(cafile=str(wildcard / "cert.pem"))

    with (
        socket.create_connection(("127.0.0.1", relay.daemon_port), timeout=10) as raw,
        pytest.raises(ssl.SSLCertVerificationError),
    ):
        context.wrap_socket(raw, server_hostname="127.0.0.1")
