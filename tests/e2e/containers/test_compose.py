"""compose.yaml brought up with podman-compose, smoke-tested, torn down."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.containers.podman import ApiService, Store
from tests.e2e.containers.smoke import fake_pbx_host, smoke
from tests.support.processes import ROOT, Relay, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

COMPOSE_FILE = ROOT / "deploy" / "compose" / "compose.yaml"


def compose(store: Store, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "podman_compose",
            "-f",
            str(COMPOSE_FILE),
            "--profile",
            "emulator",
            *args,
        ],
        env={**store.env, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.fixture
def cloud_url() -> str:
    """Where the emulator's container will listen."""

    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def relay(tmp_path: Path, cloud_url: str) -> Iterator[Relay]:
    server = Relay(tmp_path / "relay", cloud_url)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def podman_api(image_store: Store) -> Iterator[ApiService]:
    """The store's Podman API, for the updater container."""

    service = ApiService(image_store)
    service.start()
    yield service
    service.stop()


@pytest.fixture
def settings(
    tmp_path: Path,
    cloud_url: str,
    relay: Relay,
    pbx_interface: str,
    podman_api: ApiService,
) -> dict[str, str]:
    host_root = tmp_path / "host"
    host_root.mkdir()
    return {
        "CLD_CLOUD_BIND": cloud_url.removeprefix("http://"),
        "CLD_CLOUD_URL": cloud_url,
        "CLD_MQTT_PORT": str(free_port()),
        "CLD_UI_BIND": f"127.0.0.1:{free_port()}",
        "CLD_UI_SECURE_COOKIES": "false",
        "CLD_HOST_ROOT_SOURCE": str(host_root),
        "CLD_PODMAN_SOCKET": str(podman_api.socket),
        **fake_pbx_host(host_root, pbx_interface, relay),
        **{
            f"CLD_{s.upper()}_METRICS_PORT": str(free_port())
            for s in ("registration", "inventory", "updater", "tunnel", "ui")
        },
    }


@pytest.fixture
def deployed(image_store: Store, settings: dict[str, str]) -> Iterator[Store]:
    compose(image_store, settings, "up", "-d")

    try:
        yield image_store
    finally:
        compose(image_store, settings, "down", "--volumes")


def test_compose_up_passes_the_smoke_test_and_down_leaves_nothing(
    deployed: Store, settings: dict[str, str], relay: Relay
) -> None:
    assert len(deployed.names("container")) == 7
    ui_port = int(settings["CLD_UI_BIND"].rsplit(":", 1)[1])
    smoke(deployed, ui_port, relay, settings["CLD_CLOUD_URL"])

    # The updater reaches the host's Podman API through the mounted socket.
    updater = next(n for n in deployed.names("container") if "updater" in n)
    answer = deployed.podman(
        "exec",
        updater,
        "python",
        "-c",
        "import os, podman; "
        "print(podman.PodmanClient(base_url=os.environ['CLD_UPDATER_PODMAN_URL'])"
        ".version()['Version'])",
    )
    assert answer.strip().startswith("4.")

    compose(deployed, settings, "down", "--volumes")
    assert deployed.names("container") == []
    assert deployed.names("volume") == []
