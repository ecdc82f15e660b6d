"""Visitors reach a local HTTPS interface through the relay and a tunnel."""

from __future__ import annotations

import socket

import pytest
import requests
from cld.v1 import tunnel_pb2 as pb

from tests.integration.tunnel.conftest import ADMIN, Tunnels, World
from tests.integration.tunnel.origin import read_ws_frame, ws_frame


@pytest.fixture
def tunnels(live: Tunnels) -> Tunnels:
    return live


@pytest.fixture
def acme_token(world: World) -> str:
    return world.acme_token


@pytest.fixture
def globex_token(world: World) -> str:
    return world.globex_token


def get(
    tunnels: Tunnels, path: str, token: str | None, host: str | None = None
) -> requests.Response:
    headers = {"Host": host or tunnels.host()}

    if token:
        headers["Authorization"] = f"Bearer {token}"

    return requests.get(
        f"{tunnels.relay.public_url}{path}", headers=headers, timeout=10
    )


def test_tunnels_are_off_until_started(tunnels: Tunnels) -> None:
    listing = tunnels.stub.ListTunnels(pb.ListTunnelsRequest(), timeout=5)

    assert [(t.component, t.name) for t in listing.tunnels] == [
        ("pbx", "admin"),
        ("pbx", "closed"),
    ]
    assert {t.state for t in listing.tunnels} == {pb.TUNNEL_STATE_STOPPED}
    assert listing.relay_state == pb.RELAY_STATE_IDLE
    assert listing.tunnels[0].description == "Test PBX administration"


def test_a_started_tunnel_serves_visitors_with_keep_alive(
    tunnels: Tunnels, acme_token: str
) -> None:
    tunnels.start()
    started = tunnels.wait_state(pb.TUNNEL_STATE_STARTED)

    assert started.public_url.startswith("http://")
    assert ".eu.relay.localhost:" in started.public_url

    with requests.Session() as visitor:
        visitor.headers.update(
            {"Host": tunnels.host(), "Authorization": f"Bearer {acme_token}"}
        )

        for _ in range(3):
            reply = visitor.get(f"{tunnels.relay.public_url}/hello", timeout=10)
            assert reply.status_code == 200
            assert reply.text == "hello from the PBX"

        seen = visitor.get(f"{tunnels.relay.public_url}/headers", timeout=10).text

    assert "Authorization" not in seen
    assert acme_token not in seen
    assert "X-Forwarded-For: 127.0.0.1" in seen


def test_a_cookie_admits_a_visitor_and_is_not_passed_on(
    tunnels: Tunnels, acme_token: str
) -> None:
    tunnels.start()
    tunnels.wait_state(pb.TUNNEL_STATE_STARTED)

    reply = requests.get(
        f"{tunnels.relay.public_url}/headers",
        headers={
            "Host": tunnels.host(),
            "Cookie": f"theme=dark; cld_relay_token={acme_token}",
        },
        timeout=10,
    )

    assert reply.status_code == 200
    assert "Cookie: theme=dark" in reply.text
    assert acme_token not in reply.text


def test_visitors_without_a_good_token_are_refused(
    tunnels: Tunnels, globex_token: str
) -> None:
    tunnels.start()
    tunnels.wait_state(pb.TUNNEL_STATE_STARTED)

    anonymous = get(tunnels, "/hello", None)
    forged = get(tunnels, "/hello", "eyJhbGciOiJFUzI1NiJ9.e30.c2ln")
    stranger = get(tunnels, "/hello", globex_token)

    assert anonymous.status_code == 401
    assert "Sign in to CloudLink" in anonymous.text
    assert forged.status_code == 401
    assert stranger.status_code == 401
    assert "another CloudLink account" in stranger.text


def test_an_unknown_host_is_not_found(tunnels: Tunnels, acme_token: str) -> None:
    host = tunnels.relay.host("00000000-0000-0000-0000-000000000000")

    reply = get(tunnels, "/hello", acme_token, host=host)

    assert reply.status_code == 404
    assert "no tunnel at this address" in reply.text


def test_a_stopped_tunnel_is_unavailable(tunnels: Tunnels, acme_token: str) -> None:
    tunnels.start()
    tunnels.wait_state(pb.TUNNEL_STATE_STARTED)
    host = tunnels.host()
    tunnels.stop()
    tunnels.wait_state(pb.TUNNEL_STATE_STOPPED)

    reply = get(tunnels, "/hello", acme_token, host=host)

    assert reply.status_code == 502
    assert "is stopped" in reply.text


def test_an_unreachable_local_interface_is_a_clear_502(
    tunnels: Tunnels, acme_token: str
) -> None:
    closed = ("pbx", "closed")
    tunnels.start(closed)
    tunnels.wait_state(pb.TUNNEL_STATE_STARTED, closed)

    reply = get(tunnels, "/", acme_token, host=tunnels.host(closed))

    assert reply.status_code == 502
    assert "cannot be reached" in reply.text
    log = tunnels.stub.GetAccessLog(pb.GetAccessLogRequest(), timeout=5)
    assert log.entries[0].status == "unreachable"


def test_a_websocket_echoes_through_the_tunnel(
    tunnels: Tunnels, acme_token: str
) -> None:
    tunnels.start()
    tunnels.wait_state(pb.TUNNEL_STATE_STARTED)
    request = (
        "GET /ws HTTP/1.1\r\n"
        f"Host: {tunnels.host()}\r\n"
        f"Authorization: Bearer {acme_token}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    )

    with socket.create_connection(("127.0.0.1", tunnels.relay.public_port), 10) as s:
        s.sendall(request.encode())
        head = b""

        while b"\r\n\r\n" not in head:
            head += s.recv(1)

        assert head.startswith(b"HTTP/1.1 101")
        assert b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in head

        for word in (b"one", b"two"):
            s.sendall(ws_frame(word, mask=b"abcd"))
            assert read_ws_frame(s) == b"echo: " + word


def test_the_access_log_names_the_visitor(tunnels: Tunnels, acme_token: str) -> None:
    tunnels.start()
    tunnels.wait_state(pb.TUNNEL_STATE_STARTED)
    get(tunnels, "/hello", acme_token)

    log = tunnels.stub.GetAccessLog(pb.GetAccessLogRequest(limit=5), timeout=5)
    entry = log.entries[0]

    assert (entry.component, entry.name) == ADMIN
    assert entry.user_id == "f79535ac-6e7e-4b8d-a297-b5e1085e660a"
    assert entry.account_id == "63d797da-b7b3-4883-9d49-e830bb7d7be6"
    assert entry.status == "200"
    assert entry.bytes_out > len("hello from the PBX")
