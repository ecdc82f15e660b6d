"""How the daemon's containers and images are named and labelled.

The host's maintenance tool creates the containers by these names and
labels; the updater finds them by the same ones to recreate them with a
release's images. One description, so the two never drift apart.
"""

from __future__ import annotations

from services.common.topics import SERVICES

# The broker first: every service connects to it as it starts.
COMPONENTS = ("mosquitto", *SERVICES)

# Every container the daemon is made of carries this label, its value the
# component; uninstalling removes exactly what was made, never a neighbour's.
LABEL = "io.cloudlink.daemon"
SPEC_LABEL = "io.cloudlink.daemon.spec"
VERSION_LABEL = "org.opencontainers.image.version"

# Where the updater container reaches its server's Podman API.
PODMAN_SOCKET = "/run/podman/podman.sock"


def container_name(component: str) -> str:
    """The container running ``component``."""

    return f"cld-{component}"


def image_repository(component: str) -> str:
    """The repository of ``component``'s images, without a tag."""

    return f"localhost/cld-{component}"


def image(component: str, tag: str) -> str:
    """The image ``component`` runs at ``tag``."""

    return f"{image_repository(component)}:{tag}"
