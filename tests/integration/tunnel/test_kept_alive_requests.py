"""Requests after the first on a kept-alive visitor connection.

The relay passes such a request down the tunnel as soon as it arrives when
it can admit it without waiting; these tests send the shapes that must not
go that way (split heads, pipelined requests, bodies, another host, another
account's token) on raw sockets and check each is still served or refused.

A later request the relay cannot admit ends the connection without an
answer: answers owed to earlier requests may still be on their way, and
a refusal page cannot be put after them without reading them. A browser
then sends the request again on a new connection and gets the page there.
"""

from __future__ import annotations

import hashlib
import socket
import time

import pytest
from cld.v1 import tunnel_pb2 as pb

from tests.integration.tunnel.conftest import Tunnels, World


@pytest.fixture
def tunnels(live: Tunnels) -> Tunnels:
    live.start()
    live.wait_state(pb.TUNNEL_STATE_STARTED)
    return live


class Visitor:
    """One raw keep-alive connection to the relay's public ingress."""

    def __init__(self, tunnels: Tunnels) -> None:
        self.sock = socket.create_connection(
            ("127.0.0.1", tunnels.relay.public_port), timeout=10
        )
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def request(
        self, path: str, host: str, token: str, method: str = "GET", body: bytes = b""
    ) -> bytes:
        length = f"Content-Length: {len(body)}\r\n" if body else ""
        return (
            f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n"
            f"Authorization: Bearer {token}\r\n{length}\r\n"
        ).encode() + body

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def response(self) -> tuple[int, bytes]:
        """The status and body of the next response."""

        while b"\r\n\r\n" not in self.buffer:
            self._more()

        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        length = 0

        for line in lines[1:]:
            name, _, value = line.partition(b":")

            if name.strip().lower() == b"content-length":
                length = int(value)

        while len(self.buffer) < length:
            self._more()

        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return int(lines[0].split(b" ")[1]), body

    def closed(self) -> bool:
        """True when the relay closes the connection with nothing more sent."""

        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def close(self) -> None:
        self.sock.close()

    def _more(self) -> None:
        data = self.sock.recv(65536)

        if not data:
            raise ConnectionError("the relay closed the connection")

        self.buffer += data


@pytest.fixture
def visitor(tunnels: Tunnels, world: World) -> Visitor:
    opened = Visitor(tunnels)
    opened.send(opened.request("/hello", tunnels.host(), world.acme_token))
    assert opened.response() == (200, b"hello from the PBX")
    yield opened
    opened.close()


def test_many_requests_in_turn_are_answered_in_order(
    tunnels: Tunnels, world: World, visitor: Visitor
) -> None:
    for _ in range(50):
        visitor.send(visitor.request("/hello", tunnels.host(), world.acme_token))
        assert visitor.response() == (200, b"hello from the PBX")

    visitor.send(visitor.request("/headers", tunnels.host(), world.acme_token))
    status, seen = visitor.response()

    assert status == 200
    assert world.acme_token.encode() not in seen
    assert b"X-Forwarded-For: 127.0.0.1" in seen


def test_a_head_split_across_reads_is_read_whole(
    tunnels: Tunnels, world: World, visitor: Visitor
) -> None:
    request = visitor.request("/headers", tunnels.host(), world.acme_token)
    visitor.send(request[:20])
    time.sleep(0.2)
    visitor.send(request[20:])
    status, seen = visitor.response()

    assert status == 200
    assert seen.startswith(b"Host: ")
    assert world.acme_token.encode() not in seen


def test_a_head_split_after_a_blank_line_lookalike_is_not_taken_apart(
    tunnels: Tunnels, world: World, visitor: Visitor
) -> None:
    # The second part alone looks like a whole request; it is not one.
    inner = visitor.request("/hello", tunnels.host(), world.acme_token)
    outer = f"GET /headers HTTP/1.1\r\nHost: {tunnels.host()}\r\nX-Note: ".encode()
    visitor.send(outer)
    time.sleep(0.2)
    visitor.send(inner)

    # One request with two Host fields, which the relay does not pass on.
    assert visitor.closed()


def test_pipelined_requests_are_answered_in_order(
    tunnels: Tunnels, world: World, visitor: Visitor
) -> None:
    host, token = tunnels.host(), world.acme_token
    visitor.send(
        visitor.request("/headers", host, token)
        + visitor.request("/hello", host, token)
        + visitor.request("/missing", host, token)
    )

    assert visitor.response()[1].startswith(b"Host: ")
    assert visitor.response() == (200, b"hello from the PBX")
    assert visitor.response() == (404, b"not here")


def test_a_body_after_bodiless_requests_goes_through_whole(
    tunnels: Tunnels, world: World, visitor: Visitor
) -> None:
    body = bytes(range(256)) * 4096
    host, token = tunnels.host(), world.acme_token
    visitor.send(visitor.request("/upload", host, token, "POST", body))

    assert visitor.response() == (200, hashlib.sha256(body).hexdigest().encode())

    visitor.send(visitor.request("/hello", host, token))
    assert visitor.response() == (200, b"hello from the PBX")


def test_another_accounts_token_later_on_is_refused(
    tunnels: Tunnels, world: World, visitor: Visitor
) -> None:
    visitor.send(visitor.request("/headers", tunnels.host(), world.globex_token))

    assert visitor.closed()


def test_a_token_that_is_not_valid_later_on_is_refused(
    tunnels: Tunnels, visitor: Visitor
) -> None:
    visitor.send(
        visitor.request("/hello", tunnels.host(), "eyJhbGciOiJFUzI1NiJ9.e30.c2ln")
    )

    assert visitor.closed()


def test_another_host_later_on_is_refused(
    tunnels: Tunnels, world: World, visitor: Visitor
) -> None:
    other = tunnels.relay.host("00000000-0000-0000-0000-000000000000")
    visitor.send(visitor.request("/hello", other, world.acme_token))

    assert visitor.closed()
