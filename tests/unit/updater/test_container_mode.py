"""Container mode's decisions, worked out from podman 4's inspect data."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from services.common.config import Config
from services.common.settings import ConfigError, load
from services.updater import container_plan as plan
from services.updater.__main__ import installer_for
from services.updater.container_mode import ContainerInstaller
from services.updater.process_mode import ProcessInstaller

# The dashboard's container as the maintenance tool made it, trimmed from
# a real `podman inspect` (podman 4.3) to the fields container mode reads.
UI_CONTAINER: dict[str, Any] = {
    "Id": "fdaf4f0f65401c10",
    "Name": "cld-ui",
    "Image": "1c330a628bd9c607",
    "ImageName": "localhost/cld-ui:0.1.0",
    "Mounts": [
        {
            "Type": "volume",
            "Name": "cld-ui-state",
            "Source": "/var/lib/containers/storage/volumes/cld-ui-state/_data",
            "Destination": "/var/lib/cld/ui",
            "RW": True,
        },
        {
            "Type": "volume",
            "Name": "cld-runtime",
            "Source": "/var/lib/containers/storage/volumes/cld-runtime/_data",
            "Destination": "/run/cld",
            "RW": True,
        },
        {
            "Type": "bind",
            "Source": "/srv/host",
            "Destination": "/host",
            "RW": False,
        },
    ],
    "State": {"Status": "running", "ExitCode": 0},
    "Config": {
        "User": "10001:10001",
        "Env": [
            "PATH=/opt/cld/venv/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "container=podman",
            "CLD_CLOUD_URL=https://api.example",
            "TERM=xterm",
            "CLD_MQTT_PORT=1883",
            "CLD_STATE_DIR=/var/lib/cld",
            "CLD_UI_BIND=127.0.0.1:8080",
            "CLD_UI_METRICS_PORT=9465",
            "PYTHONPATH=/opt/cld/app:/opt/cld/app/gen",
            "HOME=/nonexistent",
            "HOSTNAME=vm",
        ],
        "Cmd": ["python", "-m", "services.ui"],
        "Image": "localhost/cld-ui:0.1.0",
        "Labels": {
            "io.buildah.version": "1.28.2",
            "io.cloudlink.daemon": "ui",
            "io.cloudlink.daemon.service": "ui",
            "io.cloudlink.daemon.spec": "f1f46a0587d40482",
            "org.opencontainers.image.title": "CloudLink Daemon ui",
            "org.opencontainers.image.version": "0.1.0",
        },
    },
    "HostConfig": {
        "NetworkMode": "host",
        "ReadonlyRootfs": True,
        "CapDrop": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
        "CapAdd": [],
        "RestartPolicy": {"Name": "always", "MaximumRetryCount": 0},
        "Tmpfs": {"/tmp": "size=64m,rw,rprivate,nosuid,nodev,tmpcopyup"},
        "GroupAdd": [],
    },
}

UI_IMAGE: dict[str, Any] = {
    "Env": [
        "PATH=/opt/cld/venv/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "PYTHONPATH=/opt/cld/app:/opt/cld/app/gen",
        "CLD_STATE_DIR=/var/lib/cld",
    ],
    "Labels": {
        "io.buildah.version": "1.28.2",
        "io.cloudlink.daemon.service": "ui",
        "org.opencontainers.image.title": "CloudLink Daemon ui",
        "org.opencontainers.image.version": "0.1.0",
    },
    "Cmd": ["python", "-m", "services.ui"],
    "User": "10001:10001",
}


def container(component: str, name: str = "", **changes: Any) -> dict[str, Any]:
    """Inspect data of ``component``'s container, named ``name``."""

    attrs = copy.deepcopy(UI_CONTAINER)
    attrs["Id"] = f"id-{name or component}"
    attrs["Name"] = name or f"cld-{component}"
    attrs["ImageName"] = f"localhost/cld-{component}:0.1.0"
    attrs["Config"]["Labels"]["io.cloudlink.daemon"] = component
    attrs.update(changes)
    return attrs


def live_ui() -> plan.LiveContainer:
    return plan.LiveContainer(
        id="fdaf4f0f65401c10",
        name="cld-ui",
        component="ui",
        image="localhost/cld-ui:0.1.0",
        attrs=UI_CONTAINER,
    )


def test_release_tags_name_the_release_and_read_back() -> None:
    assert plan.release_tag("0.2.0+17") == "0.2.0_17"
    assert plan.release_of_image("localhost/cld-ui:0.2.0_17") == "0.2.0+17"
    assert plan.with_tag("localhost/cld-ui:0.1.0", "0.2.0_17") == (
        "localhost/cld-ui:0.2.0_17"
    )


@pytest.mark.parametrize(
    "image", ["localhost/cld-ui:0.1.0", "localhost/cld-ui:latest", "localhost/cld-ui"]
)
def test_an_image_not_tagged_by_a_release_is_the_original_build(image: str) -> None:
    assert plan.release_of_image(image) == ""


def test_a_registry_port_is_not_taken_for_a_tag() -> None:
    assert plan.with_tag("registry.example:5000/cld-ui", "1_2") == (
        "registry.example:5000/cld-ui:1_2"
    )


def test_the_updater_is_recreated_last_and_the_others_in_the_daemons_order() -> None:
    order = plan.recreation_order(["ui", "updater", "tunnel", "registration"])

    assert order == ["registration", "tunnel", "ui", "updater"]
    assert plan.recreation_order(["ui", "inventory"]) == ["inventory", "ui"]


def test_live_containers_leave_out_those_being_replaced_or_tried() -> None:
    listed = [
        container("ui"),
        container("ui", "cld-ui.old"),
        container("ui", "cld-ui.next"),
        container("ui", "cld-ui.trial"),
        container("updater"),
        container("mosquitto"),
    ]

    live = plan.live_containers(listed, ["updater", "ui"])

    assert [(c.component, c.name) for c in live] == [
        ("ui", "cld-ui"),
        ("updater", "cld-updater"),
    ]
    assert live[0].image == "localhost/cld-ui:0.1.0"


def test_a_service_without_a_container_stops_the_release() -> None:
    with pytest.raises(ValueError, match="no container runs tunnel"):
        plan.live_containers([container("ui")], ["ui", "tunnel"])


def test_a_service_with_two_containers_stops_the_release() -> None:
    listed = [container("ui"), container("ui", "cld-ui-copy")]

    with pytest.raises(ValueError, match="more than one container runs ui"):
        plan.live_containers(listed, ["ui"])


def test_the_environment_kept_is_what_the_maker_set() -> None:
    own = plan.own_environment(UI_CONTAINER["Config"]["Env"], UI_IMAGE["Env"])

    assert own == {
        "CLD_CLOUD_URL": "https://api.example",
        "CLD_MQTT_PORT": "1883",
        "CLD_UI_BIND": "127.0.0.1:8080",
        "CLD_UI_METRICS_PORT": "9465",
    }


def test_a_variable_the_maker_changed_from_the_images_default_is_kept() -> None:
    own = plan.own_environment(["CLD_STATE_DIR=/srv/state"], UI_IMAGE["Env"])

    assert own == {"CLD_STATE_DIR": "/srv/state"}


def test_the_labels_kept_leave_the_old_images_version_behind() -> None:
    own = plan.own_labels(UI_CONTAINER["Config"]["Labels"], UI_IMAGE["Labels"])

    assert own == {
        "io.cloudlink.daemon": "ui",
        "io.cloudlink.daemon.spec": "f1f46a0587d40482",
    }


def test_a_recreated_container_keeps_volumes_binds_network_and_limits() -> None:
    args = plan.create_args(
        live_ui(), UI_IMAGE, "localhost/cld-ui:0.2.0_17", "cld-ui.next"
    )

    assert args["image"] == "localhost/cld-ui:0.2.0_17"
    assert args["name"] == "cld-ui.next"
    assert args["volumes"] == {
        "cld-ui-state": {"bind": "/var/lib/cld/ui", "mode": "rw"},
        "cld-runtime": {"bind": "/run/cld", "mode": "rw"},
        "/srv/host": {"bind": "/host", "mode": "ro"},
    }
    assert args["mounts"] == [
        {"type": "tmpfs", "source": "tmpfs", "target": "/tmp", "size": "64m"}
    ]
    assert args["network_mode"] == "host"
    assert args["read_only"] is True
    assert args["cap_drop"] == ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"]
    assert args["no_new_privileges"] is True
    assert args["restart_policy"] == {"Name": "always", "MaximumRetryCount": 0}
    assert args["labels"]["io.cloudlink.daemon"] == "ui"
    assert "org.opencontainers.image.version" not in args["labels"]
    assert args["environment"]["CLD_UI_BIND"] == "127.0.0.1:8080"
    assert "PYTHONPATH" not in args["environment"]


def test_the_updater_keeps_its_podman_socket_and_group() -> None:
    attrs = copy.deepcopy(UI_CONTAINER)
    attrs["Mounts"].append(
        {
            "Type": "bind",
            "Source": "/run/podman/podman.sock",
            "Destination": "/run/podman/podman.sock",
            "RW": True,
        }
    )
    attrs["HostConfig"]["GroupAdd"] = ["0"]
    live = plan.LiveContainer("id", "cld-updater", "updater", "i:1", attrs)

    args = plan.create_args(live, UI_IMAGE, "i:2", "cld-updater.next")

    assert args["volumes"]["/run/podman/podman.sock"] == {
        "bind": "/run/podman/podman.sock",
        "mode": "rw",
    }
    assert args["group_add"] == ["0"]

    trial = plan.trial_args(live, UI_IMAGE, "i:2", "cld-updater.trial")

    assert "/run/podman/podman.sock" not in trial["volumes"]
    assert trial["group_add"] == []
    assert trial["environment"]["CLD_UPDATER_PODMAN_URL"] == ""


def test_a_trial_touches_no_live_state_socket_or_port() -> None:
    args = plan.trial_args(
        live_ui(), UI_IMAGE, "localhost/cld-ui:0.2.0_17", "cld-ui.trial"
    )

    assert args["network_mode"] == "none"
    assert args["volumes"] == {"/srv/host": {"bind": "/host", "mode": "ro"}}
    scratch = {m["target"] for m in args["mounts"] if m.get("chown")}
    assert scratch == {"/var/lib/cld/ui", "/run/cld"}
    assert args["labels"] == {"io.cloudlink.daemon": plan.TRIAL_COMPONENT}
    assert "restart_policy" not in args
    assert args["environment"]["CLD_UI_METRICS_PORT"] == "0"
    assert args["environment"]["CLD_UI_BIND"] == "127.0.0.1:8080"


@pytest.mark.parametrize(
    ("status", "health", "verdict"),
    [
        ("running", "healthy", ""),
        ("running", "none", ""),
        ("running", "starting", None),
        ("created", "", None),
        ("running", "unhealthy", "failed its health check (no socket)"),
        ("exited", "starting", "exited with code 3"),
    ],
)
def test_a_container_is_waited_on_until_healthy_or_failed(
    status: str, health: str, verdict: str | None
) -> None:
    assert plan.health_verdict(status, 3, health, "no socket\n") == verdict


def test_the_podman_url_chooses_container_mode(tmp_path: Path) -> None:
    services = ["registration", "updater"]
    process = load(Config, {})
    containers = load(Config, {"CLD_UPDATER_PODMAN_URL": "unix:///run/p.sock"})

    assert isinstance(
        installer_for(process, tmp_path, services, lambda: None), ProcessInstaller
    )
    assert isinstance(
        installer_for(containers, tmp_path, services, lambda: None),
        ContainerInstaller,
    )


def test_a_podman_url_that_is_not_a_unix_socket_stops_start_up(tmp_path: Path) -> None:
    config = load(Config, {"CLD_UPDATER_PODMAN_URL": "tcp://127.0.0.1:8080"})

    with pytest.raises(ConfigError, match="CLD_UPDATER_PODMAN_URL='tcp://"):
        installer_for(config, tmp_path, ["updater"], lambda: None)
