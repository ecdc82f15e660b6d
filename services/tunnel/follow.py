"""The tunnel list follows the components the inventory service detects.

The inventory service rescans the host and publishes, retained, which
components are installed. Each time that changes, the tunnel list is
rebuilt from this platform's profile for those components: the board
keeps what it can and the agent tells the relay.
"""

from __future__ import annotations

import logging
from typing import Any

from services.common import topics
from services.tunnel.board import Board
from services.tunnel.catalog import HostPlatform, catalog_of

log = logging.getLogger(__name__)

PLATFORM = topics.topic("inventory", "platform")


def installed_components(payload: dict[str, Any]) -> list[str]:
    """The component ids of a platform message; ValueError if it has none."""

    components = payload.get("components")

    if not isinstance(components, list):
        raise ValueError("it has no list of components")

    ids = [c.get("id") for c in components if isinstance(c, dict)]

    if len(ids) != len(components) or not all(isinstance(i, str) for i in ids):
        raise ValueError("a component without an id")

    return [str(i) for i in ids]


class ComponentFollower:
    """Rebuilds the board's tunnel list from the inventory's components."""

    def __init__(self, platform: HostPlatform, board: Board) -> None:
        self.platform = platform
        self.board = board

    def on_platform(self, topic: str, payload: dict[str, Any]) -> None:
        """A new retained platform message from the inventory service."""

        profile = self.platform.profile

        if profile is None:
            return

        if payload.get("id") != profile.id:
            log.warning(
                "The inventory reports platform %r, this service runs %r; the "
                "tunnel list is left as it is",
                payload.get("id"),
                profile.id,
            )
            return

        try:
            components = installed_components(payload)
        except ValueError as exc:
            log.warning("Ignored a platform message on %s: %s", topic, exc)
            return

        catalog = catalog_of(self.platform, components)
        current = {(t.key, t.local_address) for t in self.board.catalog.tunnels}

        if {(t.key, t.local_address) for t in catalog.tunnels} != current:
            self.board.follow(catalog)
