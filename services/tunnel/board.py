"""Each tunnel's desired state (kept on disk) and current state (on the bus).

All tunnels are off until an administrator starts one; what was started
stays started across restarts. The current state of every tunnel is
published retained at ``cld/tunnel/tunnels/<component>/<name>`` for the
dashboard and the inventory report.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from services.common import topics
from services.common.state import StateStore
from services.tunnel.catalog import Catalog, CatalogTunnel, Key

log = logging.getLogger(__name__)

STOPPED = "stopped"
STARTING = "starting"
STARTED = "started"
FAILED = "failed"

Publish = Callable[[str, dict[str, Any]], None]


def state_topic(key: Key) -> str:
    """The retained topic of one tunnel's state."""

    return topics.topic("tunnel", f"tunnels/{key[0]}/{key[1]}")


class UnknownTunnelError(KeyError):
    """A tunnel this system's profile does not offer."""

    def __str__(self) -> str:
        component, name = self.args[0]
        return f"This system offers no tunnel {component}/{name}."


@dataclass
class TunnelView:
    """One tunnel as the dashboard shows it."""

    tunnel: CatalogTunnel
    state: str
    reason: str
    public_url: str
    active_streams: int


class Board:
    """Desired and current tunnel states, shared by gRPC and the agent."""

    def __init__(
        self,
        catalog: Catalog,
        store: StateStore,
        publish: Publish,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.catalog = catalog
        self.store = store
        self.publish = publish
        self.clock = clock
        self.on_change: Callable[[], None] = lambda: None
        self._lock = threading.Lock()
        self._desired = self._load()
        self._state: dict[Key, tuple[str, str]] = {
            t.key: (STARTING, "") if t.key in self._desired else (STOPPED, "")
            for t in catalog.tunnels
        }
        self._urls: dict[Key, str] = {}
        self.version = 0
        self._active: dict[Key, int] = {}
        self._last_use: dict[Key, float] = {k: clock() for k in self._desired}

    def _load(self) -> set[Key]:
        document = self.store.load() or {}
        wanted: set[Key] = set()

        for item in document.get("started", []):
            key = (str(item.get("component", "")), str(item.get("name", "")))

            if self.catalog.get(key) is None:
                log.warning(
                    "Tunnel %s/%s was started but the profile no longer offers it",
                    *key,
                )
                continue

            wanted.add(key)

        return wanted

    def announce(self) -> None:
        """Publishes every tunnel's current state."""

        with self._lock:
            states = dict(self._state)

        for key, (state, reason) in states.items():
            self._publish(key, state, reason)

    def follow(self, catalog: Catalog) -> frozenset[Key]:
        """Takes the tunnel list of the components now installed.

        A new tunnel comes in stopped; a tunnel whose component went away
        is stopped and its retained state withdrawn; every other tunnel
        keeps its desired and current state. Returns the tunnels gone.
        """

        with self._lock:
            before = {t.key for t in self.catalog.tunnels}
            after = {t.key for t in catalog.tunnels}
            removed = frozenset(before - after)
            added = after - before
            self.catalog = catalog
            self.version += 1
            was_started = removed & self._desired

            for key in removed:
                self._desired.discard(key)
                self._state.pop(key, None)
                self._urls.pop(key, None)
                self._active.pop(key, None)
                self._last_use.pop(key, None)

            for key in added:
                self._state[key] = (STOPPED, "")

            if was_started:
                self._save()

        for key in sorted(removed):
            # A state without "state" tells subscribers the tunnel is gone.
            self.publish(
                state_topic(key), {"component": key[0], "name": key[1], "removed": True}
            )

        for key in sorted(added):
            self._publish(key, STOPPED, "")

        if removed or added:
            log.info(
                "The tunnel list follows the installed components: %d added, "
                "%d removed",
                len(added),
                len(removed),
                extra={
                    "added": sorted("/".join(k) for k in added),
                    "removed": sorted("/".join(k) for k in removed),
                },
            )

        self.on_change()
        return removed

    def desired(self) -> frozenset[Key]:
        """The tunnels that should be started."""

        with self._lock:
            return frozenset(self._desired)

    def start(self, key: Key) -> None:
        """Starts a tunnel (kept across restarts)."""

        self._want({self._tunnel(key).key}, True)

    def stop(self, key: Key, reason: str = "") -> None:
        """Stops a tunnel (kept across restarts)."""

        self._want({self._tunnel(key).key}, False, reason)

    def start_all(self) -> None:
        """Starts every tunnel."""

        self._want({t.key for t in self.catalog.tunnels}, True)

    def stop_all(self) -> None:
        """Stops every tunnel."""

        self._want({t.key for t in self.catalog.tunnels}, False)

    def mark(self, keys: frozenset[Key], state: str, reason: str = "") -> None:
        """Sets the current state of those of ``keys`` still desired."""

        changed: list[Key] = []

        with self._lock:
            for key in keys:
                if key in self._desired and self._state.get(key) != (state, reason):
                    self._state[key] = (state, reason)
                    changed.append(key)

        for key in changed:
            self._publish(key, state, reason)

    def set_public_url(self, key: Key, url: str) -> None:
        """Remembers the public URL the relay gave a tunnel."""

        with self._lock:
            self._urls[key] = url

    def stream_opened(self, key: Key) -> None:
        """Counts a visitor connection in."""

        with self._lock:
            self._active[key] = self._active.get(key, 0) + 1
            self._last_use[key] = self.clock()

    def stream_closed(self, key: Key) -> None:
        """Counts a visitor connection out."""

        with self._lock:
            self._active[key] = max(0, self._active.get(key, 0) - 1)
            self._last_use[key] = self.clock()

    def idle(self, longer_than: float) -> list[Key]:
        """Started tunnels nobody used for ``longer_than`` seconds."""

        now = self.clock()

        with self._lock:
            return [
                key
                for key in self._desired
                if not self._active.get(key)
                and now - self._last_use.get(key, now) > longer_than
            ]

    def views(self) -> list[TunnelView]:
        """Every tunnel with its states, in profile order."""

        with self._lock:
            return [
                TunnelView(
                    tunnel,
                    *self._state[tunnel.key],
                    self._urls.get(tunnel.key, ""),
                    self._active.get(tunnel.key, 0),
                )
                for tunnel in self.catalog.tunnels
            ]

    def view(self, key: Key) -> TunnelView:
        """One tunnel with its states."""

        return next(v for v in self.views() if v.tunnel.key == key)

    def _tunnel(self, key: Key) -> CatalogTunnel:
        tunnel = self.catalog.get(key)

        if tunnel is None:
            raise UnknownTunnelError(key)

        return tunnel

    def _want(self, keys: set[Key], started: bool, reason: str = "") -> None:
        changed: list[Key] = []

        with self._lock:
            for key in keys:
                if (key in self._desired) == started:
                    continue

                if started:
                    self._desired.add(key)
                    self._state[key] = (STARTING, "")
                    self._last_use[key] = self.clock()
                else:
                    self._desired.discard(key)
                    self._state[key] = (STOPPED, reason)

                changed.append(key)

            if changed:
                self._save()

        for key in changed:
            state, why = self._state[key]
            self._publish(key, state, why)
            log.info(
                "Tunnel %s/%s %s",
                *key,
                "started" if started else "stopped",
                extra={"component": key[0], "tunnel": key[1]},
            )

        if changed:
            self.on_change()

    def _save(self) -> None:
        self.store.save(
            {"started": [{"component": c, "name": n} for c, n in sorted(self._desired)]}
        )

    def _publish(self, key: Key, state: str, reason: str) -> None:
        self.publish(
            state_topic(key),
            {"component": key[0], "name": key[1], "state": state, "reason": reason},
        )
