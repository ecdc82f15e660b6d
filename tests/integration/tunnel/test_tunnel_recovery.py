"""Restarts and dead connections: the tunnel comes back by itself."""

from __future__ import annotations

import os
import signal

import requests
from cld.v1 import tunnel_pb2 as pb

from tests.integration.tunnel.conftest import Tunnels
from tests.support.processes import wait_for


def serves(tunnels: Tunnels, host: str, token: str) -> bool:
    try:
        reply = requests.get(
            f"{tunnels.relay.public_url}/hello",
            headers={"Host": host, "Authorization": f"Bearer {token}"},
            timeout=5,
        )
    except requests.RequestException:
        return False

    return reply.status_code == 200


def test_a_relay_restart_is_recovered_from(tunnels: Tunnels, acme_token: str) -> None:
    tunnels.start()
    tunnels.wait_state(pb.TUNNEL_STATE_STARTED)
    host = tunnels.host()
    assert serves(tunnels, host, acme_token)

    tunnels.relay.stop()
    wait_for(lambda: tunnels.tunnel().state != pb.TUNNEL_STATE_STARTED, 10, "the loss")
    tunnels.relay.start()

    wait_for(lambda: serves(tunnels, host, acme_token), 20, "the tunnel to return")
    assert tunnels.tunnel().public_url.endswith(host)


def test_a_daemon_restart_keeps_started_tunnels(
    tunnels: Tunnels, acme_token: str
) -> None:
    tunnels.start()
    tunnels.wait_state(pb.TUNNEL_STATE_STARTED)
    host = tunnels.host()

    tunnels.service.stop()
    tunnels.service.start()

    tunnels.wait_state(pb.TUNNEL_STATE_STARTED)
    assert tunnels.host() == host
    wait_for(lambda: serves(tunnels, host, acme_token), 20, "the tunnel to return")
    other = tunnels.tunnel(("pbx", "closed"))
    assert other.state == pb.TUNNEL_STATE_STOPPED


def test_a_relay_that_stops_answering_is_left_for_a_new_connection(
    tunnels: Tunnels, acme_token: str
) -> None:
    tunnels.start()
    tunnels.wait_state(pb.TUNNEL_STATE_STARTED)
    host = tunnels.host()
    os.kill(tunnels.relay.pid, signal.SIGSTOP)

    try:
        wait_for(
            lambda: tunnels.tunnel().state != pb.TUNNEL_STATE_STARTED,
            10,
            "the dead connection to be noticed",
        )
    finally:
        os.kill(tunnels.relay.pid, signal.SIGCONT)

    tunnels.wait_state(pb.TUNNEL_STATE_STARTED)
    wait_for(lambda: serves(tunnels, host, acme_token), 20, "the tunnel to return")
    assert "heartbeat timeout" in tunnels.service.output()
