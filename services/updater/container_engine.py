"""The daemon's containers on one server, as the updater drives them.

A thin layer over the Podman API for container mode: finding the live
containers, creating, renaming and removing them, loading images, and
waiting for health checks. Every engine error comes out as InstallError.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from podman import PodmanClient
from podman.errors import APIError, NotFound, PodmanError
from requests import RequestException

from services.common.containers import LABEL
from services.updater import container_plan as plan
from services.updater.container_plan import LiveContainer
from services.updater.installer import InstallError

log = logging.getLogger(__name__)

# Loading a release's images streams a few hundred megabytes.
API_TIMEOUT = 600
STOP_TIMEOUT = 10
POLL = 0.5
LOG_TAIL = 800

ERRORS = (APIError, PodmanError, RequestException)


class Engine:
    """One server's Podman API, for the daemon's containers and images."""

    def __init__(self, url: str, health_timeout: float) -> None:
        self.client = PodmanClient(base_url=url, timeout=API_TIMEOUT)
        self.health_timeout = health_timeout

    def create(self, args: Mapping[str, Any]) -> Any:
        """A new container (not started) from a create call's arguments."""

        return self.call(self.client.containers.create, **args)

    def images(self) -> list[Any]:
        """Every image in the store."""

        found: list[Any] = self.call(self.client.images.list)
        return found

    def request_stop(self, container_id: str) -> None:
        """Asks the engine to stop a container, waiting no longer than the ask."""

        try:
            self.client.api.post(
                f"/containers/{container_id}/stop", params={"timeout": STOP_TIMEOUT}
            )
        except ERRORS as exc:
            log.warning("Could not ask for %s to stop: %s", container_id, exc)

    def put_back(self, containers: Sequence[tuple[str, str]]) -> None:
        """Gives each (name, id) container its name back and starts it, last first.

        Whatever holds the name instead, a new version's container, is removed.
        """

        for name, container_id in reversed(containers):
            try:
                placed = self.find(name)

                if placed is not None and placed.id != container_id:
                    self.call(placed.remove, force=True)

                self.remove(name + plan.NEXT, quiet=True)
                old = self.container(container_id)

                if old.name != name:
                    self.call(old.rename, name)

                old.reload()

                if old.status != "running":
                    self.call(old.start)

                log.info("Put %s back", name)
            except (InstallError, *ERRORS) as exc:
                log.error("Could not put %s back: %s", name, exc)

    def await_health(self, names: Mapping[str, str]) -> dict[str, str]:
        """Waits for each container to be healthy; by component, what was not."""

        waiting = dict(names)
        problems: dict[str, str] = {}
        deadline = time.monotonic() + self.health_timeout

        while waiting:
            for component, name in list(waiting.items()):
                self.run_health_check(name)
                state = self.container(name).attrs.get("State") or {}
                health = state.get("Health") or state.get("Healthcheck") or {}
                entries = health.get("Log") or [{}]
                verdict = plan.health_verdict(
                    str(state.get("Status", "")),
                    int(state.get("ExitCode") or 0),
                    str(health.get("Status") or "none"),
                    str(entries[-1].get("Output", "")),
                )

                if verdict is None:
                    continue

                del waiting[component]

                if verdict:
                    problems[component] = f"{component} {verdict}{self.tail(name)}"

            if not waiting:
                break

            if time.monotonic() > deadline:
                problems.update(
                    (
                        c,
                        f"{c} did not pass its health check within "
                        f"{self.health_timeout:.0f}s{self.tail(n)}",
                    )
                    for c, n in waiting.items()
                )
                break

            time.sleep(POLL)

        return problems

    def run_health_check(self, name: str) -> None:
        """Runs the container's health check now; the engine records the result.

        The engine counts failures only after the check's start period and
        calls the container unhealthy only after its retries, so the state
        it records is read, not the answer to one run.
        """

        try:
            self.client.api.get(f"/containers/{name}/healthcheck")
        except ERRORS as exc:
            log.debug("The health check of %s did not run: %s", name, exc)

    def tail(self, name: str) -> str:
        """The end of a container's output, to follow a problem with."""

        try:
            lines = self.container(name).logs(tail=5)
        except (InstallError, *ERRORS):
            return ""

        text = "".join(
            line.decode(errors="replace") if isinstance(line, bytes) else str(line)
            for line in lines
        ).strip()
        return f"; its last output: {text[-LOG_TAIL:]}" if text else ""

    def live(self, services: Sequence[str]) -> list[LiveContainer]:
        """The live containers of ``services``, updater last."""

        found = self.call(
            self.client.containers.list, all=True, filters={"label": LABEL}
        )

        try:
            return plan.live_containers(
                (self.container(c.id).attrs for c in found), services
            )
        except ValueError as exc:
            raise InstallError(str(exc)) from None

    def containers(self) -> list[Any]:
        """Every container of the daemon, whatever its name."""

        found: list[Any] = self.call(
            self.client.containers.list, all=True, filters={"label": LABEL}
        )
        return found

    def container(self, name: str) -> Any:
        """The container called (or with the id) ``name``."""

        return self.call(self.client.containers.get, name)

    def find(self, name: str) -> Any:
        """The container called ``name``; None when there is none."""

        try:
            return self.client.containers.get(name)
        except NotFound:
            return None
        except ERRORS as exc:
            raise InstallError(f"the container engine failed: {exc}") from None

    def remove(self, name: str, quiet: bool = False) -> None:
        """Removes the container called ``name`` if there is one, running or not.

        ``quiet`` logs a failure instead of raising it.
        """

        try:
            found = self.find(name)

            if found is not None:
                self.call(found.remove, force=True)
        except InstallError as exc:
            if not quiet:
                raise

            log.warning("Could not remove %s: %s", name, exc)

    def remove_image(self, image: str) -> None:
        """Removes ``image`` unless a container uses it."""

        try:
            self.client.images.remove(image)
        except NotFound:
            return
        except ERRORS as exc:
            # An image a container still uses stays; the next prune retries.
            log.info("Kept image %s: %s", image, exc)

    def image_config(self, container: LiveContainer) -> Mapping[str, Any]:
        """The ``Config`` of the image ``container`` was made from."""

        image = self.call(self.client.images.get, container.attrs.get("Image", ""))
        config: Mapping[str, Any] = image.attrs.get("Config") or {}
        return config

    def has_image(self, image: str) -> bool:
        """True when ``image`` is in the store."""

        return bool(self.call(self.client.images.exists, image))

    def load(self, archive: Path) -> None:
        """Loads the images of a ``podman save`` archive."""

        try:
            with archive.open("rb") as body:
                reply = self.client.api.post(
                    "/images/load",
                    data=body,
                    headers={"Content-type": "application/x-tar"},
                )
        except OSError as exc:
            raise InstallError(f"cannot read {archive.name}: {exc.strerror}") from None
        except ERRORS as exc:
            raise InstallError(f"loading {archive.name} failed: {exc}") from None

        if not reply.ok:
            raise InstallError(f"loading {archive.name} failed: {reply.text[:300]}")

    def call(self, action: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``action(*args, **kwargs)``, its engine errors as InstallError."""

        try:
            return action(*args, **kwargs)
        except ERRORS as exc:
            raise InstallError(f"the container engine failed: {exc}") from None
