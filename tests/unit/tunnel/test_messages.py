"""Control messages: hello, welcome, tunnel lists and stream requests."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.tunnel import messages, wire
from services.tunnel.messages import Hello, Open, TunnelEntry, Visitor, Welcome
from services.tunnel.wire import Kind, ProtocolError

TUNNELS = (TunnelEntry("server-manager", "web", True), TunnelEntry("mbg", "ui", False))


def test_hello_round_trips() -> None:
    hello = Hello("tok.en.x", "sys-1", TUNNELS, "agent 1")

    assert messages.parse_hello(hello.frame()) == hello


def test_welcome_gives_each_tunnel_its_url() -> None:
    welcome = Welcome("s1", "https://{label}.eu.relay.example", 5.0)
    parsed = messages.parse_welcome(welcome.frame())

    assert parsed.url_of("abc") == "https://abc.eu.relay.example"


def test_open_round_trips() -> None:
    request = Open("server-manager", "web", Visitor("u1", "a1", "10.0.0.9"))

    assert messages.parse_open(request.frame(5)) == request


def test_an_open_naming_an_address_is_refused() -> None:
    frame = wire.control(
        Kind.OPEN,
        {"component": "a", "name": "b", "visitor": {}, "address": "10.0.0.1:22"},
        1,
    )

    with pytest.raises(ProtocolError, match="address"):
        messages.parse_open(frame)


@pytest.mark.parametrize(
    "tunnels",
    [
        "nope",
        [{"component": "A B", "name": "x", "started": True}],
        [{"component": "a", "name": "x", "started": "yes"}],
        [{"component": "a", "name": "x", "started": True}] * 2,
        [{"component": "a", "name": f"t{i}", "started": True} for i in range(300)],
    ],
)
def test_a_bad_tunnel_list_is_refused(tunnels: object) -> None:
    frame = wire.control(Kind.TUNNELS, {"tunnels": tunnels})

    with pytest.raises(ProtocolError):
        messages.parse_tunnels(frame)


def test_a_hello_of_another_version_is_refused() -> None:
    frame = wire.control(
        Kind.HELLO, {"version": 99, "token": "t", "systemId": "s", "tunnels": []}
    )

    with pytest.raises(ProtocolError, match="version"):
        messages.parse_hello(frame)


def test_public_labels_are_stable_and_distinct() -> None:
    first = messages.public_label("sys-1", "server-manager", "web")

    assert first == messages.public_label("sys-1", "server-manager", "web")
    assert first != messages.public_label("sys-2", "server-manager", "web")
    assert first != messages.public_label("sys-1", "server-manager", "api")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=6,
)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.sampled_from(["version", "token", "systemId", "tunnels", "agent", "x"]),
        json_values,
    )
)
def test_any_hello_body_parses_or_is_refused(body: dict[str, object]) -> None:
    try:
        hello = messages.parse_hello(wire.control(Kind.HELLO, body))
    except ProtocolError:
        return

    assert hello.token
    assert hello.system_id
