"""The smoke test run after every deployment: dashboard healthy, link works."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import grpc
import requests
from cld.v1 import registration_pb2 as pb
from cld.v1 import registration_pb2_grpc as pb_grpc

from tests.e2e.containers.podman import Store


def dashboard_healthy(port: int) -> bool:
    """True when the dashboard answers its health check."""

    try:
        return requests.get(f"http://127.0.0.1:{port}/cld/healthz", timeout=3).ok
    except requests.RequestException:
        return False


def link(store: Store, username: str, password: str) -> pb.Link:
    """Links through the registration socket in the runtime volume."""

    folder = store.podman(
        "volume", "inspect", "cld-runtime", "--format", "{{.Mountpoint}}"
    ).strip()

    # The volume's folder can be too deep for a socket address: a short link.
    with tempfile.TemporaryDirectory(prefix="cld-") as scratch:
        socket = Path(scratch) / "registration.sock"
        socket.symlink_to(Path(folder) / "registration.sock")

        with grpc.insecure_channel(f"unix://{socket}") as channel:
            stub = pb_grpc.RegistrationStub(channel)
            request = pb.LinkWithPasswordRequest(username=username, password=password)
            reply: pb.Link = stub.LinkWithPassword(request, timeout=30)
            return reply


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


def smoke(store: Store, ui_port: int) -> None:
    """Every container healthy, the dashboard answers, the system links."""

    wait_healthy(store, 120)
    assert dashboard_healthy(ui_port)
    page = requests.get(f"http://127.0.0.1:{ui_port}/cld/", timeout=5)
    assert "Log in" in page.text

    reply = link(store, "admin@acme.example", "acme-admin-1")
    assert reply.state == pb.LINK_STATE_LINKED
    assert reply.account_name == "Acme Dental"
