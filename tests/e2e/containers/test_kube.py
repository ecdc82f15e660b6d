"""cld.yaml played with podman kube play, smoke-tested, torn down."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.e2e.containers.podman import Store
from tests.e2e.containers.smoke import fake_pbx_host, smoke
from tests.support.processes import ROOT, Cloud, Relay, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

POD_FILE = ROOT / "deploy" / "podman" / "cld.yaml"
SETTINGS_FILE = ROOT / "deploy" / "podman" / "cld-settings.yaml"


def test_the_pod_is_valid_kubernetes_and_uses_only_local_images() -> None:
    pod = yaml.safe_load(POD_FILE.read_text())

    assert pod["apiVersion"] == "v1"
    assert pod["kind"] == "Pod"
    assert pod["spec"]["hostNetwork"] is True

    for container in pod["spec"]["containers"]:
        assert container["image"].startswith("localhost/cld-")
        assert container["imagePullPolicy"] == "Never"
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
        assert "livenessProbe" in container


@pytest.fixture
def relay(tmp_path: Path, cloud: Cloud) -> Iterator[Relay]:
    server = Relay(tmp_path / "relay", cloud.url)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def played(
    tmp_path: Path, image_store: Store, cloud: Cloud, relay: Relay, pbx_interface: str
) -> Iterator[tuple[Store, int]]:
    host_root = tmp_path / "host"
    host_root.mkdir()
    ui_port = free_port()

    settings = yaml.safe_load(SETTINGS_FILE.read_text())
    settings["data"].update(
        {
            "CLD_CLOUD_URL": cloud.url,
            "CLD_MQTT_PORT": str(free_port()),
            "CLD_UI_BIND": f"127.0.0.1:{ui_port}",
            "CLD_UI_SECURE_COOKIES": "false",
            **fake_pbx_host(host_root, pbx_interface, relay),
            **{
                f"CLD_{s.upper()}_METRICS_PORT": str(free_port())
                for s in ("registration", "inventory", "updater", "tunnel", "ui")
            },
        }
    )
    settings_file = tmp_path / "cld-settings.yaml"
    settings_file.write_text(yaml.safe_dump(settings))

    # The host's root folder stands in for a fake host's.
    pod = yaml.safe_load(POD_FILE.read_text())

    for volume in pod["spec"]["volumes"]:
        if "hostPath" in volume:
            volume["hostPath"]["path"] = str(host_root)

    pod_file = tmp_path / "cld.yaml"
    pod_file.write_text(yaml.safe_dump(pod))

    image_store.podman("kube", "play", "--configmap", str(settings_file), str(pod_file))

    try:
        yield image_store, ui_port
    finally:
        image_store.podman("kube", "down", str(pod_file), check=False)

        for volume in image_store.names("volume"):
            image_store.podman("volume", "rm", "--force", volume, check=False)


def test_kube_play_passes_the_smoke_test(
    played: tuple[Store, int], relay: Relay, cloud: Cloud
) -> None:
    store, ui_port = played
    assert store.names("pod") == ["cld"]

    smoke(store, ui_port, relay, cloud.url)
