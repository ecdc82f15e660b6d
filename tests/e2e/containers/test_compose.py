"""compose.yaml brought up with podman-compose, smoke-tested, torn down."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.containers.podman import Store
from tests.e2e.containers.smoke import smoke
from tests.support.processes import ROOT, free_port

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
def settings(tmp_path: Path) -> dict[str, str]:
    cloud_port = free_port()
    host_root = tmp_path / "host"
    host_root.mkdir()
    return {
        "CLD_CLOUD_BIND": f"127.0.0.1:{cloud_port}",
        "CLD_CLOUD_URL": f"http://127.0.0.1:{cloud_port}",
        "CLD_MQTT_PORT": str(free_port()),
        "CLD_UI_BIND": f"127.0.0.1:{free_port()}",
        "CLD_UI_SECURE_COOKIES": "false",
        "CLD_TUNNEL_RELAY": f"127.0.0.1:{free_port()}",
        "CLD_HOST_ROOT_SOURCE": str(host_root),
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
    deployed: Store, settings: dict[str, str]
) -> None:
    assert len(deployed.names("container")) == 7
    smoke(deployed, int(settings["CLD_UI_BIND"].rsplit(":", 1)[1]))

    compose(deployed, settings, "down", "--volumes")
    assert deployed.names("container") == []
    assert deployed.names("volume") == []
