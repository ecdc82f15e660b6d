"""Tunnel states and the clock drift, retained on the bus."""

from __future__ import annotations

import pytest
from cld.v1 import tunnel_pb2 as pb

from services.common.bus import Bus, wait_until
from tests.integration.common.test_bus import Inbox
from tests.integration.tunnel.conftest import Tunnels, World
from tests.support.processes import Broker


@pytest.fixture
def tunnels(live: Tunnels) -> Tunnels:
    return live


@pytest.fixture
def acme_token(world: World) -> str:
    return world.acme_token


@pytest.fixture
def mosquitto(world: World) -> Broker:
    return world.broker


ADMIN_TOPIC = "cld/tunnel/tunnels/pbx/admin"


def test_states_and_drift_are_retained_for_late_subscribers(
    tunnels: Tunnels, mosquitto: Broker
) -> None:
    tunnels.start()
    tunnels.wait_state(pb.TUNNEL_STATE_STARTED)
    inbox = Inbox()
    reader = Bus("inventory", "127.0.0.1", mosquitto.port)
    reader.subscribe("cld/tunnel/#", inbox)
    reader.start()

    try:
        assert wait_until(lambda: inbox.last("cld/tunnel/clock-drift") is not None, 10)
        assert wait_until(
            lambda: (inbox.last(ADMIN_TOPIC) or {}).get("state") == "started", 10
        )
        closed = inbox.last("cld/tunnel/tunnels/pbx/closed")
        drift = inbox.last("cld/tunnel/clock-drift")

        tunnels.stop()
        assert wait_until(
            lambda: (inbox.last(ADMIN_TOPIC) or {}).get("state") == "stopped", 10
        )
    finally:
        reader.stop()

    admin = inbox.last(ADMIN_TOPIC)
    assert admin is not None
    assert {k: admin[k] for k in ("component", "name", "reason")} == {
        "component": "pbx",
        "name": "admin",
        "reason": "",
    }
    assert closed is not None
    assert closed["state"] == "stopped"
    assert drift is not None
    assert abs(drift["drift_seconds"]) < 5
    assert drift["warning"] == ""
