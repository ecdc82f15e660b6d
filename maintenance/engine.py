"""One server's container engine, driven through its Podman REST API."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from podman import PodmanClient
from podman.errors import APIError, NotFound, PodmanError
from requests import RequestException

from maintenance import forward, layout
from maintenance.forward import ForwardError
from maintenance.layout import ContainerSpec
from maintenance.servers import Server

log = logging.getLogger(__name__)

Progress = Callable[[str], None]

API_TIMEOUT = 120

# How much of a failed container's log goes into the error.
LOG_TAIL = 1500


class EngineError(RuntimeError):
    """The server's container engine refused or could not be reached."""


@dataclass(frozen=True)
class ContainerState:
    """One of the daemon's containers as the engine reports it."""

    name: str
    component: str
    state: str
    health: str
    version: str


class Engine:
    """The daemon's containers, volumes and images on one server."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self._forward = contextlib.ExitStack()
        url = server.url

        # The tool's own forward rather than podman's ssh transport: that one
        # accepts any host key and waits minutes for a server that is down.
        if server.remote:
            try:
                local = self._forward.enter_context(
                    forward.forward(server, server.socket_path)
                )
            except ForwardError as exc:
                raise EngineError(str(exc)) from None

            url = f"unix://{local}"

        try:
            self.client = PodmanClient(base_url=url, timeout=API_TIMEOUT)
        except (PodmanError, ValueError) as exc:
            self._forward.close()
            raise EngineError(f"cannot use {server.url}: {exc}") from None

    def close(self) -> None:
        """Lets go of the API connection (and its ssh forward)."""

        try:
            self.client.close()
        finally:
            self._forward.close()

    def version(self) -> str:
        """The engine's version; EngineError when it cannot be reached."""

        reply = self._call(self.client.version)
        return str(reply.get("Version", "unknown"))

    def missing_images(self, version: str) -> list[str]:
        """The daemon's images at ``version`` this server does not have."""

        return [i for i in layout.images(version) if not self._has_image(i)]

    def load_images(self, archive: Path) -> None:
        """Loads the images in the ``podman save`` archive at ``archive``."""

        try:
            with archive.open("rb") as f:
                reply = self.client.api.post(
                    "/images/load",
                    data=f,
                    headers={"Content-type": "application/x-tar"},
                )
        except OSError as exc:
            raise EngineError(f"cannot read {archive}: {exc.strerror}") from None
        except (APIError, RequestException) as exc:
            raise EngineError(f"loading {archive} failed: {exc}") from None

        if not reply.ok:
            raise EngineError(f"loading {archive} failed: {reply.text[:300]}")

    def ensure_volumes(self) -> None:
        """Creates the daemon's named volumes that do not exist yet."""

        for name in layout.volumes():
            if not self._call(self.client.volumes.exists, name):
                self._call(
                    self.client.volumes.create, name, labels={layout.LABEL: name}
                )

    def apply(self, spec: ContainerSpec) -> str:
        """Makes the container match ``spec`` and run; says what was done."""

        existing = self._container(spec.name)
        done = "kept"

        if existing is not None:
            labels = existing.attrs.get("Config", {}).get("Labels") or {}

            if labels.get(layout.SPEC_LABEL) != spec.fingerprint:
                self._remove(existing)
                existing = None
                done = "replaced"

        if existing is None:
            existing = self._call(self.client.containers.create, **_create_args(spec))
            done = "created" if done == "kept" else done

        existing.reload()

        if existing.status != "running":
            self._call(existing.start)
            done = "started" if done == "kept" else done

        return done

    def containers(self) -> list[ContainerState]:
        """The daemon's containers on this server, with their health."""

        found = self._call(
            self.client.containers.list, all=True, filters={"label": layout.LABEL}
        )
        states: list[ContainerState] = []

        for container in found:
            labels = container.labels or {}
            state = _status(container)
            health = self.health(container.name) if state == "running" else "none"
            states.append(
                ContainerState(
                    name=container.name,
                    component=labels.get(layout.LABEL, ""),
                    state=state,
                    health=health,
                    version=labels.get(layout.VERSION_LABEL, ""),
                )
            )

        order = {name: i for i, name in enumerate(layout.COMPONENTS)}
        return sorted(states, key=lambda s: order.get(s.component, len(order)))

    def running(self) -> set[str]:
        """The components whose containers run on this server."""

        found = self._call(self.client.containers.list, filters={"label": layout.LABEL})
        return {(c.labels or {}).get(layout.LABEL, "") for c in found}

    def health(self, name: str) -> str:
        """Runs ``name``'s health check now: healthy, unhealthy or none."""

        try:
            reply = self.client.api.get(f"/containers/{name}/healthcheck")
        except (APIError, RequestException) as exc:
            log.debug("Health check of %s failed: %s", name, exc)
            return "unknown"

        if reply.status_code == 409:
            return "none"

        if not reply.ok:
            return "unknown"

        return str(reply.json().get("Status", "unknown"))

    def wait_healthy(
        self, names: list[str], timeout: float, progress: Progress
    ) -> None:
        """Waits until every container in ``names`` is healthy."""

        deadline = time.monotonic() + timeout
        waiting = list(names)

        while waiting:
            waiting = [n for n in waiting if self.health(n) != "healthy"]

            if not waiting:
                break

            if time.monotonic() > deadline:
                raise EngineError(
                    f"not healthy after {timeout:.0f}s: {', '.join(waiting)}"
                )

            self._check_running(waiting)
            time.sleep(0.5)

        progress("every container is healthy")

    def remove_containers(self, progress: Progress) -> int:
        """Stops and deletes the daemon's containers; returns how many."""

        found = self._call(
            self.client.containers.list, all=True, filters={"label": layout.LABEL}
        )

        # The services first, the broker last, as the reverse of start order.
        order = {f"cld-{c}": i for i, c in enumerate(layout.COMPONENTS)}
        found.sort(key=lambda c: -order.get(c.name, -1))

        for container in found:
            progress(f"deleting {container.name}")
            self._remove(container)

        return len(found)

    def remove_volumes(self, progress: Progress) -> int:
        """Deletes the daemon's named volumes, and its state with them."""

        removed = 0

        for name in layout.volumes():
            if self._call(self.client.volumes.exists, name):
                progress(f"deleting volume {name}")
                self._call(self.client.volumes.remove, name, force=True)
                removed += 1

        return removed

    def remove_images(self, progress: Progress) -> int:
        """Deletes every version of the daemon's images."""

        removed = 0

        for found in self._call(self.client.images.list):
            tags = [t for t in found.tags if _is_daemon_image(t)]

            for tag in tags:
                progress(f"deleting image {tag}")

                try:
                    self.client.images.remove(tag, force=True)
                except NotFound:
                    continue
                except (APIError, RequestException) as exc:
                    raise EngineError(f"cannot delete {tag}: {exc}") from None

                removed += 1

        return removed

    def runtime_folder(self) -> Path:
        """Where the runtime volume (the services' sockets) is on the server."""

        volume = self._call(self.client.volumes.get, layout.RUNTIME_VOLUME)
        return Path(volume.attrs["Mountpoint"])

    def _has_image(self, name: str) -> bool:
        return bool(self._call(self.client.images.exists, name))

    def _container(self, name: str) -> Any:
        try:
            return self.client.containers.get(name)
        except NotFound:
            return None
        except (APIError, RequestException) as exc:
            raise EngineError(f"{self.server.name}: {exc}") from None

    def _remove(self, container: Any) -> None:
        try:
            container.stop(timeout=layout.STOP_TIMEOUT, ignore=True)
            container.remove(v=False, force=True)
        except NotFound:
            return
        except (APIError, RequestException) as exc:
            raise EngineError(f"cannot delete {container.name}: {exc}") from None

    def _check_running(self, names: list[str]) -> None:
        for name in names:
            container = self._container(name)

            if container is None or _status(container) in {"exited", "stopped"}:
                tail = self._logs(name)[-LOG_TAIL:]
                raise EngineError(f"{name} stopped while starting:\n{tail}")

    def _logs(self, name: str) -> str:
        try:
            lines = self.client.containers.get(name).logs(tail=4)
            return "".join(
                line.decode(errors="replace") if isinstance(line, bytes) else str(line)
                for line in lines
            )
        except (APIError, RequestException, PodmanError):
            return ""

    def _call(self, action: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return action(*args, **kwargs)
        except (APIError, PodmanError, RequestException) as exc:
            raise EngineError(f"{self.server.name}: {exc}") from None


def _status(container: Any) -> str:
    # A listed container carries its state as a word; an inspected one as a
    # table with the word in it.
    state = container.attrs.get("State")

    if isinstance(state, dict):
        return str(state.get("Status", "unknown"))

    return str(state or "unknown")


def _is_daemon_image(tag: str) -> bool:
    repository = tag.rsplit(":", 1)[0]
    return repository.startswith("localhost/cld-") and not repository.endswith("-base")


def _create_args(spec: ContainerSpec) -> dict[str, Any]:
    """The create call for ``spec``: locked down, on the host's network."""

    mounts: dict[str, dict[str, str]] = {
        volume: {"bind": target, "mode": "rw"}
        for volume, target in spec.volumes.items()
    }

    if spec.host_root:
        mounts[spec.host_root] = {"bind": layout.HOST_ROOT, "mode": "ro"}

    # The socket is root's, group read-write (the shipped socket unit's
    # SocketMode): the updater joins root's group to reach it, which grants
    # no more than the socket itself already does.
    extra: dict[str, Any] = {}

    if spec.podman_socket:
        mounts[spec.podman_socket] = {"bind": layout.PODMAN_SOCKET, "mode": "rw"}
        extra["group_add"] = ["0"]

    # The host's network: the tunnels reach the host's own web interfaces on
    # its loopback, and the host's web server proxies /cld to the dashboard.
    return {
        "image": spec.image,
        "name": spec.name,
        "environment": dict(spec.environment),
        "volumes": mounts,
        "labels": dict(spec.labels),
        "network_mode": "host",
        "read_only": True,
        # The root is read-only; gunicorn and tempfile need a writable /tmp.
        "mounts": [
            {"type": "tmpfs", "source": "tmpfs", "target": "/tmp", "size": "64m"}  # noqa: S108
        ],
        "cap_drop": ["ALL"],
        # podman-py passes security_opt on as SELinux options only.
        "no_new_privileges": True,
        "restart_policy": {"Name": "always"},
        **extra,
    }
