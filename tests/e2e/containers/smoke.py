"""The smoke test run after every deployment: dashboard, link, a tunnel."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import grpc
import requests
from cld.v1 import registration_pb2 as pb
from cld.v1 import registration_pb2_grpc as pb_grpc
from cld.v1 import tunnel_pb2 as tunnel_pb
from cld.v1 import tunnel_pb2_grpc as tunnel_grpc

from tests.e2e.containers.podman import Store
from tests.support.processes import Relay, free_port, wait_for
from tests.support.stacks import PLATFORM, TUNNEL, token_at

# What the Test PBX's web interface answers, as the tunnel must carry it.
GREETING = b"Test PBX administration"

# Where the containers find what the host root holds (mounted at /host).
PROFILES_IN_CONTAINER = "/host/platforms"
RELAY_CERT_IN_CONTAINER = "/host/relay-cert.pem"


def dashboard_healthy(port: int) -> bool:
    """True when the dashboard answers its health check."""

    try:
        return requests.get(f"http://127.0.0.1:{port}/cld/healthz", timeout=3).ok
    except requests.RequestException:
        return False


class _Interface(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(GREETING)))
        self.end_headers()
        self.wfile.write(GREETING)


@contextlib.contextmanager
def local_interface() -> Iterator[str]:
    """A web interface on the host's loopback, as a PBX's; yields its address."""

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Interface)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def fake_pbx_host(host_root: Path, interface: str, relay: Relay) -> dict[str, str]:
    """Makes ``host_root`` a Test Box whose PBX offers a tunnel to ``interface``.

    The profile and the relay's certificate go in the host root, which every
    container mounts; returns the settings that point the daemon at them.
    """

    (host_root / "etc").mkdir(parents=True, exist_ok=True)
    (host_root / "etc" / "testbox-release").write_text("Test Box 1.0\n")
    profiles = host_root / "platforms"
    profiles.mkdir()
    (profiles / "testbox.toml").write_text(
        PLATFORM
        + TUNNEL.format(name="admin", address=interface, description="Administration")
    )
    shutil.copyfile(relay.ca_file, host_root / "relay-cert.pem")
    return {
        "CLD_PLATFORMS_DIR": PROFILES_IN_CONTAINER,
        "CLD_TUNNEL_RELAY": f"127.0.0.1:{relay.daemon_port}",
        "CLD_TUNNEL_RELAY_CA_FILE": RELAY_CERT_IN_CONTAINER,
    }


@contextlib.contextmanager
def runtime_socket(store: Store, service: str) -> Iterator[str]:
    """The gRPC target of ``service``'s socket in the runtime volume."""

    folder = store.podman(
        "volume", "inspect", "cld-runtime", "--format", "{{.Mountpoint}}"
    ).strip()

    # The volume's folder can be too deep for a socket address: a short link.
    with tempfile.TemporaryDirectory(prefix="cld-") as scratch:
        socket = Path(scratch) / f"{service}.sock"
        socket.symlink_to(Path(folder) / f"{service}.sock")
        yield f"unix://{socket}"


def link(store: Store, username: str, password: str) -> pb.Link:
    """Links through the registration socket in the runtime volume."""

    with (
        runtime_socket(store, "registration") as target,
        grpc.insecure_channel(target) as channel,
    ):
        stub = pb_grpc.RegistrationStub(channel)
        request = pb.LinkWithPasswordRequest(username=username, password=password)
        reply: pb.Link = stub.LinkWithPassword(request, timeout=30)
        return reply


def tunnel_carries_a_request(store: Store, relay: Relay, cloud_url: str) -> None:
    """Starts the PBX's tunnel and fetches its interface through the relay."""

    ref = tunnel_pb.TunnelRef(component="pbx", name="admin")

    with (
        runtime_socket(store, "tunnel") as target,
        grpc.insecure_channel(target) as channel,
    ):
        stub = tunnel_grpc.TunnelGatewayStub(channel)
        stub.StartTunnel(ref, timeout=10)

        def started() -> tunnel_pb.Tunnel | None:
            listing = stub.ListTunnels(tunnel_pb.ListTunnelsRequest(), timeout=10)
            found = next(t for t in listing.tunnels if t.name == ref.name)
            return found if found.state == tunnel_pb.TUNNEL_STATE_STARTED else None

        wait_for(lambda: started() is not None, 60, "the tunnel to start")
        tunnel = started()
        assert tunnel is not None

    url = f"{relay.public_url}/"
    host = urlsplit(tunnel.public_url).netloc
    token = token_at(cloud_url, "admin@acme.example", "acme-admin-1")

    refused = requests.get(url, headers={"Host": host}, timeout=10)
    assert refused.status_code in {401, 403}

    page = requests.get(
        url, headers={"Host": host, "Authorization": f"Bearer {token}"}, timeout=10
    )
    assert page.status_code == 200, page.text[:300]
    assert page.content == GREETING


def unhealthy(store: Store) -> list[str]:
    """The containers of the daemon that fail their health check now."""

    return [
        name
        for name in store.names("container")
        if not name.endswith("-infra")
        and not store.succeeds("healthcheck", "run", name)
    ]


def wait_healthy(store: Store, timeout: float) -> None:
    """Waits for every container to be healthy; names those that are not."""

    deadline = time.monotonic() + timeout

    while failing := unhealthy(store):
        if time.monotonic() > deadline:
            logs = {
                name: store.podman("logs", name, check=False)[-800:] for name in failing
            }
            raise AssertionError(f"not healthy after {timeout}s: {logs}")

        time.sleep(1)


def smoke(store: Store, ui_port: int, relay: Relay, cloud_url: str) -> None:
    """Every container healthy, the dashboard up, linked, a tunnel carrying a request.

    The tunnel goes through ``relay``, which checks visitors' tokens with the
    emulator at ``cloud_url``.
    """

    wait_healthy(store, 120)
    assert dashboard_healthy(ui_port)
    page = requests.get(f"http://127.0.0.1:{ui_port}/cld/", timeout=5)
    assert "Log in" in page.text

    reply = link(store, "admin@acme.example", "acme-admin-1")
    assert reply.state == pb.LINK_STATE_LINKED
    assert reply.account_name == "Acme Dental"

    tunnel_carries_a_request(store, relay, cloud_url)
