"""The retained bus state the dashboard shows, kept in each worker's memory."""

from __future__ import annotations

import copy
import threading
from typing import Any

from services.common import topics

LINK = topics.LINK
CLOCK_DRIFT = topics.topic("tunnel", "clock-drift")
TUNNEL_STATUS = topics.status("tunnel")

# The inventory service's view of the host: the CloudLink Gateway beside the
# daemon, and the platform (its language among other facts).
GATEWAY = topics.topic("inventory", "gateway")
PLATFORM = topics.topic("inventory", "platform")

WATCHED = (LINK, CLOCK_DRIFT, TUNNEL_STATUS, GATEWAY, PLATFORM)


class LiveState:
    """The latest payload of each watched topic, as the bus last told it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._payloads: dict[str, dict[str, Any]] = {}

    def update(self, topic: str, payload: dict[str, Any]) -> None:
        """Keeps ``payload`` as the state of ``topic``; empty forgets it.

        An empty retained message is how MQTT clears a topic.
        """

        with self._lock:
            if payload:
                self._payloads[topic] = payload
            else:
                self._payloads.pop(topic, None)

    def get(self, topic: str) -> dict[str, Any]:
        """A copy of the latest payload of ``topic``; empty when none came."""

        with self._lock:
            return copy.deepcopy(self._payloads.get(topic, {}))

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """A copy of every topic's latest payload, read at one moment."""

        with self._lock:
            return copy.deepcopy(self._payloads)

    def host_language(self) -> str:
        """The host platform's language as the inventory service read it."""

        language = self.get(PLATFORM).get("language")
        return language if isinstance(language, str) else ""
