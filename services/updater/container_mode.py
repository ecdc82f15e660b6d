"""Releases as container images, applied through the server's Podman API.

A container release carries its images as a ``podman save`` archive,
tagged with the release (``localhost/cld-ui:0.2.0_17``). Installing loads
it; a trial runs every new image apart from the live daemon (no network,
scratch folders) until it passes its health check; a switch replaces the
live containers one at a time, each made beside the live one as
``NAME.next``, the live one stopped and kept as ``NAME.old``, the new one
renamed into place, started and waited on until healthy. The first that
fails puts every one already replaced back, and the switch is reported
rolled back.

The updater cannot watch its own replacement from inside the container
being replaced, so its container goes last, once every other one is
healthy, and in two halves: ``switch`` makes the new container and asks
this process to stop serving; ``hand_over``, run once it has stopped,
renames the two, starts the new one and waits for it. The old container
is removed only after that, by the new updater when it confirms the
release; until then it can be renamed back and started again.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from services.common.containers import LABEL
from services.updater import container_plan as plan
from services.updater.container_engine import ERRORS, STOP_TIMEOUT, Engine
from services.updater.container_plan import LiveContainer
from services.updater.installer import InstallError, RolledBackError
from services.updater.manifest import Release

log = logging.getLogger(__name__)

IMAGES_KIND = "images"


@dataclass(frozen=True)
class Handover:
    """The updater's own replacement, made and waiting for this process to stop."""

    live: LiveContainer
    release_id: str


class ContainerInstaller:
    """Releases as images, switched to by recreating the daemon's containers."""

    def __init__(
        self,
        url: str,
        services: Sequence[str],
        health_timeout: float,
        stop_service: Callable[[], None],
    ) -> None:
        self.services = tuple(services)
        self.stop_service = stop_service
        self.engine = Engine(url, health_timeout)
        self.handover: Handover | None = None

    def current(self) -> str:
        """The release the updater's container runs; empty for the original build."""

        try:
            live = self.engine.live(("updater",))
        except InstallError as exc:
            log.warning("Cannot tell which release runs: %s", exc)
            return ""

        return plan.release_of_image(live[0].image)

    def install(self, release: Release, artifacts: dict[str, Path]) -> None:
        """Loads the release's images; nothing live changes."""

        tag = plan.release_tag(release.version.release_id)
        wanted = [plan.with_tag(c.image, tag) for c in self.engine.live(self.services)]

        if all(self.engine.has_image(image) for image in wanted):
            return

        archives = [
            artifacts[a.name] for a in release.artifacts if a.kind == IMAGES_KIND
        ]

        if not archives:
            raise InstallError(
                f"release {release.version.release_id} carries no container images "
                f"(an artifact of kind {IMAGES_KIND!r}); it cannot be applied to "
                "containers"
            )

        for archive in archives:
            self.engine.load(archive)

        missing = [image for image in wanted if not self.engine.has_image(image)]

        if missing:
            raise InstallError(
                f"the release's images do not include {', '.join(missing)}"
            )

        # The image store holds them now; the archive would only take space.
        for archive in archives:
            archive.unlink(missing_ok=True)

        log.info("Loaded the images of release %s", release.version.release_id)

    def trial(self, release: Release) -> list[str]:
        """Runs every new image apart from the live daemon until it is healthy."""

        tag = plan.release_tag(release.version.release_id)
        live = self.engine.live(self.services)
        names = {c.component: c.name + plan.TRIAL for c in live}

        try:
            for container in live:
                self.engine.remove(names[container.component])
                image = plan.with_tag(container.image, tag)
                args = plan.trial_args(
                    container,
                    self.engine.image_config(container),
                    image,
                    names[container.component],
                )
                self.engine.create(args).start()

            return list(self.engine.await_health(names).values())
        except (InstallError, *ERRORS) as exc:
            return [f"the trial could not run: {exc}"]
        finally:
            for name in names.values():
                self.engine.remove(name, quiet=True)

    def switch(self, release: Release) -> str:
        """Replaces the containers one at a time; the updater's own goes last.

        Raises RolledBackError, with every container back as it was, when a
        new one fails; returns the release replaced once all but the
        updater's own run it and that one is ready to be handed over to.
        """

        release_id = release.version.release_id
        tag = plan.release_tag(release_id)
        replaced = self.current()
        live = self.engine.live(self.services)
        done: list[LiveContainer] = []

        for container in live:
            image = plan.with_tag(container.image, tag)

            try:
                if container.component == "updater":
                    self._create_next(container, image)
                else:
                    self._replace(container, image)
            except InstallError as exc:
                put_back = [*done, container]
                self.engine.put_back([(c.name, c.id) for c in put_back])
                raise RolledBackError(
                    f"{container.component} on the new version: {exc}; "
                    f"{', '.join(c.component for c in put_back)} put back"
                ) from None

            done.append(container)

            if container.component == "updater":
                self.handover = Handover(container, release_id)
                log.info("Handing the updater over to release %s", release_id)
                self.stop_service()

        return replaced

    def hand_over(self) -> str:
        """Starts the new updater in this one's place; the reason when it fails.

        Runs after this process stopped serving. On success this process is
        stopped by the engine and never returns; on failure the old
        container has its name back and the reason is returned.
        """

        assert self.handover is not None
        live = self.handover.live
        fresh = live.name + plan.NEXT

        try:
            self.engine.container(live.id).rename(live.name + plan.OLD)
            started = self.engine.container(fresh)
            started.rename(live.name)
            started.start()
            problem = self.engine.await_health({live.component: live.name})
        except (InstallError, *ERRORS) as exc:
            problem = {live.component: f"the new updater could not start: {exc}"}

        if not problem:
            self._stop_self(live.id)

        log.error("The new updater failed; this one stays: %s", problem)
        self.engine.put_back([(live.name, live.id)])
        return problem[live.component]

    def restore(self, release_id: str) -> None:
        """Puts back every container kept as ``NAME.old`` since the switch.

        Not the updater's own, which this process runs in: the new updater
        stays, as the one that watches the others go back.
        """

        try:
            kept = [
                (found.name.removesuffix(plan.OLD), found.id)
                for found in self.engine.containers()
                if found.name.endswith(plan.OLD)
                and (found.labels or {}).get(LABEL) in self.services
                and (found.labels or {}).get(LABEL) != "updater"
            ]
        except InstallError as exc:
            log.error(
                "Cannot go back to %s: %s", release_id or "the original build", exc
            )
            return

        self.engine.put_back(kept)
        log.info("Went back to %s", release_id or "the original build")

    def discard(self, release_id: str) -> None:
        """Removes a release's images, where no container uses them."""

        tag = plan.release_tag(release_id)

        try:
            for container in self.engine.live(self.services):
                self.engine.remove(container.name + plan.NEXT, quiet=True)
                self.engine.remove_image(plan.with_tag(container.image, tag))
        except InstallError as exc:
            log.warning("Could not remove release %s: %s", release_id, exc)

    def prune(self) -> None:
        """Removes the kept old containers and every release image not running."""

        try:
            for found in self.engine.containers():
                if found.name.endswith(plan.OLD):
                    self.engine.remove(found.name, quiet=True)

            running = {
                plan.release_of_image(c.image) for c in self.engine.live(self.services)
            }
            images = self.engine.images()
        except InstallError as exc:
            log.warning("Could not remove old releases: %s", exc)
            return

        for image in images:
            for tag in image.tags:
                release = plan.release_of_image(tag)

                if release and release not in running and "/cld-" in tag:
                    self.engine.remove_image(tag)

    def _replace(self, container: LiveContainer, image: str) -> None:
        fresh = self._create_next(container, image)
        old = self.engine.container(container.id)
        self.engine.call(old.stop, timeout=STOP_TIMEOUT, ignore=True)
        self.engine.call(old.rename, container.name + plan.OLD)
        self.engine.call(fresh.rename, container.name)
        self.engine.call(fresh.start)
        problem = self.engine.await_health({container.component: container.name})

        if problem:
            raise InstallError(problem[container.component])

    def _create_next(self, container: LiveContainer, image: str) -> Any:
        name = container.name + plan.NEXT
        self.engine.remove(name)

        # A kept container of an earlier update is no longer needed to go back.
        self.engine.remove(container.name + plan.OLD)
        args = plan.create_args(
            container, self.engine.image_config(container), image, name
        )
        return self.engine.create(args)

    def _stop_self(self, container_id: str) -> NoReturn:
        """Asks the engine to stop this process's container, and ends.

        Stopped by request, the old container is not restarted by its
        restart policy; Python as PID 1 would ignore a plain SIGTERM.
        """

        signal.signal(signal.SIGTERM, lambda signum, frame: os._exit(0))
        log.info("The new updater is healthy; this one stops")

        threading.Thread(
            target=self.engine.request_stop, args=(container_id,), daemon=True
        ).start()

        # Normally the engine's SIGTERM comes first; leaving is the fallback.
        time.sleep(STOP_TIMEOUT * 2)
        os._exit(0)
