"""Request heads, body framing, hosts and credentials at the relay."""

from __future__ import annotations

import pytest

from cloud.relay import http1
from cloud.relay.http1 import HttpError


def head(*lines: str) -> http1.RequestHead:
    return http1.parse_head(("\r\n".join(lines) + "\r\n\r\n").encode())


def test_a_head_parses_and_encodes_back() -> None:
    parsed = head("GET /a?b=1 HTTP/1.1", "Host: x.eu.relay.localhost", "Accept: */*")

    assert (parsed.method, parsed.target, parsed.version) == (
        "GET",
        "/a?b=1",
        "HTTP/1.1",
    )
    assert parsed.get("host") == "x.eu.relay.localhost"
    assert http1.parse_head(parsed.encode()) == parsed


@pytest.mark.parametrize(
    ("lines", "status"),
    [
        (["GET /a"], 400),
        (["GET /a HTTP/2.0"], 505),
        (["GET /a b HTTP/1.1"], 400),
        (["GET /a HTTP/1.1", "Bad Name: x"], 400),
        (["GET /a HTTP/1.1", "NoColon"], 400),
        (["GET /a HTTP/1.1"] + [f"X-{i}: y" for i in range(101)], 431),
    ],
)
def test_a_malformed_head_is_refused(lines: list[str], status: int) -> None:
    with pytest.raises(HttpError) as error:
        head(*lines)

    assert error.value.status == status


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ([], http1.NO_BODY),
        (["Content-Length: 10"], http1.Framing("length", 10)),
        (["Content-Length: 0"], http1.NO_BODY),
        (["Content-Length: 5", "Content-Length: 5"], http1.Framing("length", 5)),
        (["Transfer-Encoding: chunked"], http1.Framing("chunked")),
        (
            ["Upgrade: websocket", "Connection: keep-alive, Upgrade"],
            http1.Framing("upgrade"),
        ),
    ],
)
def test_body_framing(fields: list[str], expected: http1.Framing) -> None:
    assert http1.framing(head("POST / HTTP/1.1", *fields)) == expected


@pytest.mark.parametrize(
    "fields",
    [
        ["Content-Length: 5", "Transfer-Encoding: chunked"],
        ["Content-Length: 5", "Content-Length: 6"],
        ["Content-Length: -1"],
        ["Transfer-Encoding: gzip, chunked"],
    ],
)
def test_ambiguous_framing_is_refused(fields: list[str]) -> None:
    with pytest.raises(HttpError):
        http1.framing(head("POST / HTTP/1.1", *fields))


def test_chunk_sizes() -> None:
    assert http1.chunk_size(b"1f") == 31
    assert http1.chunk_size(b"0;ext=1") == 0

    with pytest.raises(HttpError):
        http1.chunk_size(b"zz")


@pytest.mark.parametrize(
    ("host", "label"),
    [
        ("abc.eu.relay.localhost:8802", "abc"),
        ("ABC.EU.relay.localhost", "abc"),
        ("abc.eu.relay.localhost.", "abc"),
        ("abc.us.relay.localhost", None),
        ("a.b.eu.relay.localhost", None),
        ("eu.relay.localhost", None),
        ("[::1]:80", None),
        (None, None),
    ],
)
def test_host_labels(host: str | None, label: str | None) -> None:
    assert http1.host_label(host, "eu.relay.localhost") == label


def test_a_request_names_at_most_one_host() -> None:
    one = head("GET / HTTP/1.1", "Host: a.eu.relay.localhost")
    two = head("GET / HTTP/1.1", "Host: a.eu.relay.localhost", "Host: b.example")

    assert http1.host_of(one) == "a.eu.relay.localhost"
    assert http1.host_of(head("GET / HTTP/1.0")) is None

    with pytest.raises(http1.HttpError) as refused:
        http1.host_of(two)

    assert refused.value.status == 400


def test_the_token_comes_from_the_bearer_header_or_the_cookie() -> None:
    bearer = head("GET / HTTP/1.1", "Authorization: Bearer abc")
    cookie = head("GET / HTTP/1.1", "Cookie: a=1; cld_relay_token=xyz")
    basic = head("GET / HTTP/1.1", "Authorization: Basic Zm9v")

    assert http1.bearer_token(bearer, "cld_relay_token") == "abc"
    assert http1.bearer_token(cookie, "cld_relay_token") == "xyz"
    assert http1.bearer_token(basic, "cld_relay_token") is None


def test_the_relay_credentials_are_stripped_and_others_kept() -> None:
    request = head(
        "GET / HTTP/1.1",
        "Authorization: Bearer abc",
        "Cookie: a=1; cld_relay_token=xyz; b=2",
    )
    basic = head("GET / HTTP/1.1", "Authorization: Basic Zm9v")

    http1.strip_credentials(request, "cld_relay_token")
    http1.strip_credentials(basic, "cld_relay_token")

    assert request.get("Authorization") is None
    assert request.get("Cookie") == "a=1; b=2"
    assert basic.get("Authorization") == "Basic Zm9v"
