"""The relay reached through the host's HTTP proxy (CONNECT, Basic credentials)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from cld.v1 import tunnel_pb2 as pb

from tests.integration.tunnel.conftest import Tunnels
from tests.support.connectproxy import ConnectProxy
from tests.support.processes import Relay, Service, free_port, wait_for

USER = "px-user"
SECRET = "px-s3cret-1"

StartTunnels = Callable[[str], Tunnels]


@pytest.fixture
def proxy() -> Iterator[ConnectProxy]:
    server = ConnectProxy(USER, SECRET)
    yield server
    server.shutdown()


@pytest.fixture
def tunnels_via(
    tmp_path: Path, tunnel_env: dict[str, str], linked: Service, relay: Relay
) -> Iterator[StartTunnels]:
    """Starts the tunnel service with CLD_HTTPS_PROXY set to a given URL."""

    started: list[Service] = []

    def start(proxy_url: str) -> Tunnels:
        env = {**tunnel_env, "CLD_HTTPS_PROXY": proxy_url}
        service = Service("tunnel", env, tmp_path / "daemon")
        service.start()
        started.append(service)
        return Tunnels(service, relay)

    yield start

    for service in started:
        service.stop()


def get_hello(tunnels: Tunnels, token: str) -> requests.Response:
    return requests.get(
        f"{tunnels.relay.public_url}/hello",
        headers={"Host": tunnels.host(), "Authorization": f"Bearer {token}"},
        timeout=10,
    )


def test_a_tunnel_carries_requests_through_the_proxy(
    proxy: ConnectProxy,
    tunnels_via: StartTunnels,
    relay: Relay,
    acme_token: str,
) -> None:
    proxy.start()
    tunnels = tunnels_via(proxy.url(USER, SECRET))

    tunnels.start()
    tunnels.wait_state(pb.TUNNEL_STATE_STARTED)
    reply = get_hello(tunnels, acme_token)

    assert reply.status_code == 200
    assert reply.text.startswith("hello")
    connects = proxy.connects()
    assert [c.target for c in connects] == [f"127.0.0.1:{relay.daemon_port}"]
    assert connects[0].authorization.startswith("Basic ")
    assert SECRET not in tunnels.service.output()


def test_wrong_proxy_credentials_fail_the_tunnel_naming_the_407(
    proxy: ConnectProxy, tunnels_via: StartTunnels
) -> None:
    proxy.start()
    tunnels = tunnels_via(proxy.url(USER, "not-the-password"))

    tunnels.start()
    failed = tunnels.wait_state(pb.TUNNEL_STATE_FAILED)

    assert f"the proxy 127.0.0.1:{proxy.port} answered 407" in failed.reason
    assert "refused the proxy credentials" in failed.reason
    assert proxy.connects()
    assert "not-the-password" not in tunnels.service.output()


def test_a_proxy_that_is_down_is_retried_until_it_is_back(
    proxy: ConnectProxy, tunnels_via: StartTunnels, acme_token: str
) -> None:
    port = free_port()
    tunnels = tunnels_via(f"http://{USER}:{SECRET}@127.0.0.1:{port}")

    tunnels.start()
    failed = tunnels.wait_state(pb.TUNNEL_STATE_FAILED)
    assert f"cannot connect to the proxy 127.0.0.1:{port}" in failed.reason
    assert "Retrying" in failed.reason

    proxy.start(port)

    tunnels.wait_state(pb.TUNNEL_STATE_STARTED)
    wait_for(
        lambda: get_hello(tunnels, acme_token).status_code == 200,
        20,
        "the tunnel to serve through the proxy",
    )
    assert len(proxy.connects()) >= 1
