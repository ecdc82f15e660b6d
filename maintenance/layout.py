"""What the daemon is made of on one server: containers, volumes, labels.

Plain data, worked out from the configuration alone, so the engine that
talks to Podman only carries it out.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from services.common.containers import (
    COMPONENTS,
    LABEL,
    PODMAN_SOCKET,
    SPEC_LABEL,
    VERSION_LABEL,
    container_name,
    image,
)
from services.common.topics import SERVICES

__all__ = [
    "COMPONENTS",
    "LABEL",
    "PODMAN_SOCKET",
    "SERVICES",
    "SPEC_LABEL",
    "VERSION_LABEL",
]

RUNTIME_VOLUME = "cld-runtime"
RUNTIME_DIR = "/run/cld"
STATE_DIR = "/var/lib/cld"
HOST_ROOT = "/host"

# A container given SIGTERM has this long before it is killed.
STOP_TIMEOUT = 10


@dataclass(frozen=True)
class ContainerSpec:
    """One container of the daemon, as it should be."""

    name: str
    component: str
    image: str
    environment: Mapping[str, str]
    volumes: Mapping[str, str]
    host_root: str = ""
    podman_socket: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        """A digest of everything above: a change means the container is remade."""

        document = {
            "image": self.image,
            "environment": dict(sorted(self.environment.items())),
            "volumes": dict(sorted(self.volumes.items())),
            "host_root": self.host_root,
        }

        # Only the updater mounts the socket; leaving it out otherwise keeps
        # the other containers' fingerprints as they were before it existed.
        if self.podman_socket:
            document["podman_socket"] = self.podman_socket

        encoded = json.dumps(document, sort_keys=True).encode()
        return hashlib.sha256(encoded).hexdigest()[:16]


def state_volume(service: str) -> str:
    """The named volume holding ``service``'s durable state."""

    return f"cld-{service}-state"


def volumes() -> tuple[str, ...]:
    """Every named volume of the daemon."""

    return (RUNTIME_VOLUME, *(state_volume(s) for s in SERVICES))


def images(version: str) -> tuple[str, ...]:
    """Every image the daemon runs at ``version``."""

    return tuple(image(c, version) for c in COMPONENTS)


def containers(
    version: str, settings: Mapping[str, str], host_root: str, podman_socket: str = ""
) -> list[ContainerSpec]:
    """The daemon's containers on one server, in start order.

    ``podman_socket`` is the server's Podman API socket on the server itself;
    when given, the updater gets it and applies releases by recreating the
    containers through it.
    """

    specs: list[ContainerSpec] = []
    mqtt_port = settings.get("CLD_MQTT_PORT", "1883")

    for component in COMPONENTS:
        if component == "mosquitto":
            environment = {"CLD_MQTT_PORT": mqtt_port}
            mounts: dict[str, str] = {}
            root = ""
        else:
            environment = {
                **settings,
                "CLD_STATE_DIR": STATE_DIR,
                "CLD_RUNTIME_DIR": RUNTIME_DIR,
                "CLD_HOST_ROOT": HOST_ROOT,
            }
            mounts = {
                RUNTIME_VOLUME: RUNTIME_DIR,
                state_volume(component): f"{STATE_DIR}/{component}",
            }
            root = host_root

        socket = podman_socket if component == "updater" else ""

        if socket:
            environment["CLD_UPDATER_PODMAN_URL"] = f"unix://{PODMAN_SOCKET}"

        spec = ContainerSpec(
            name=container_name(component),
            component=component,
            image=image(component, version),
            environment=environment,
            volumes=mounts,
            host_root=root,
            podman_socket=socket,
        )
        labels = {LABEL: component, SPEC_LABEL: spec.fingerprint}
        specs.append(replace(spec, labels=labels))

    return specs
