"""Applying a verified release: download, install, try, switch, confirm.

The switch is recorded before it is made, so whichever process runs after
it (the old updater, or the new one the supervisor starts) confirms it when
every service is back on the new version, or goes back when that does not
happen in time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from services.updater import status as st
from services.updater.channel import Channel, ChannelError
from services.updater.download import ArtifactRejectedError, DownloadError
from services.updater.installer import Installer, InstallError, RolledBackError
from services.updater.journal import Journal
from services.updater.manifest import Release

log = logging.getLogger(__name__)

# A cut download is carried on this many times within one update before
# the update is given up until the next check.
DOWNLOAD_ATTEMPTS = 3
PROGRESS_EVERY = 0.5


class Applier:
    """Takes a release from the channel to running, or back out again."""

    def __init__(
        self,
        journal: Journal,
        channel: Channel,
        installer: Installer,
        services: Sequence[str],
        downloads: Path,
        health_timeout: float,
    ) -> None:
        self.journal = journal
        self.channel = channel
        self.installer = installer
        self.services = tuple(services)
        self.downloads = downloads
        self.health_timeout = health_timeout
        self._presence: dict[str, tuple[str, datetime | None]] = {}
        self._last_progress = 0.0

    def on_presence(self, topic: str, payload: dict[str, Any]) -> None:
        """Notes a service's retained online/offline and when it came."""

        self._presence[topic.split("/")[1]] = (
            str(payload.get("state", "")),
            st.parse_iso(str(payload.get("at", ""))),
        )

    def apply(self, release: Release) -> None:
        """Downloads, installs and tries ``release``, then switches to it."""

        offered = str(release.version)
        journal = self.journal

        try:
            artifacts = self._download(release)
            journal.progress(st.APPLYING, "installing the new version")
            self.installer.install(release, artifacts)
            journal.progress(
                st.APPLYING, "starting the new version to check its health"
            )
            problems = self.installer.trial(release)
        except ArtifactRejectedError as exc:
            journal.finish(st.REFUSED, offered, f"The release was refused: {exc}.")
            return
        except (DownloadError, ChannelError) as exc:
            journal.finish(
                st.FAILED, offered, f"The download did not finish: {exc}.", record=False
            )
            return
        except InstallError as exc:
            journal.finish(st.FAILED, offered, f"The release was not installed: {exc}.")
            return

        if problems:
            self.installer.discard(release.version.release_id)
            journal.finish(
                st.ROLLED_BACK,
                offered,
                f"Version {release.version} failed its health check and was not "
                f"switched to; {journal.running} keeps running. " + " ".join(problems),
            )
            return

        self._switch(release)

    def confirm(self, now: datetime) -> bool:
        """Settles the pending switch when it can; True while still waiting."""

        switch = self.journal.state.switch
        assert switch is not None
        since = st.parse_iso(switch.switched_at) or now
        deadline = st.parse_iso(switch.deadline) or now
        missing = [s for s in self.services if not self._back_since(s, since, switch)]

        if not missing:
            self._settle(switch, st.UPDATED, "")
            return False

        if now < deadline:
            return True

        self.roll_back(
            f"within {self.health_timeout:.0f}s of the switch (not back: "
            f"{', '.join(missing)})"
        )
        return False

    def roll_back(self, why: str) -> None:
        """Goes back from the pending switch, which did not come up healthy ``why``."""

        switch = self.journal.state.switch
        assert switch is not None
        self.installer.restore(switch.from_release)
        self.installer.discard(switch.to_release)
        self._settle(
            switch,
            st.ROLLED_BACK,
            f"Version {switch.to_version} did not come up healthy {why}; went "
            f"back to {switch.from_version}.",
        )

    def _download(self, release: Release) -> dict[str, Path]:
        paths: dict[str, Path] = {}

        for artifact in release.artifacts:
            for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
                self.journal.progress(st.DOWNLOADING, artifact.name)

                try:
                    paths[artifact.name] = self.channel.fetch(
                        artifact,
                        self.downloads,
                        progress=self._download_progress(artifact.name),
                        verifying=self._verifying(artifact.name),
                    )
                    break
                except DownloadError as exc:
                    if attempt == DOWNLOAD_ATTEMPTS:
                        raise

                    log.warning("%s; carrying on (attempt %d)", exc, attempt + 1)

        return paths

    def _verifying(self, name: str) -> Callable[[], None]:
        return lambda: self.journal.progress(st.VERIFYING, name)

    def _download_progress(self, name: str) -> Callable[[int, int], None]:
        def progress(done: int, total: int) -> None:
            now = time.monotonic()

            if done < total and now - self._last_progress < PROGRESS_EVERY:
                return

            self._last_progress = now
            self.journal.progress(
                st.DOWNLOADING, f"{name}: {done / 1e6:.1f} of {total / 1e6:.1f} MB"
            )

        return progress

    def _switch(self, release: Release) -> None:
        journal = self.journal
        now = journal.now()

        with journal.lock:
            journal.state.switch = st.Switch(
                from_release=self.installer.current(),
                to_release=release.version.release_id,
                from_version=str(journal.running),
                to_version=str(release.version),
                switched_at=st.iso(now),
                deadline=st.iso(now + timedelta(seconds=self.health_timeout)),
            )
            journal.progress(
                st.APPLYING, f"switched to {release.version}; restarting services"
            )

        try:
            self.installer.switch(release)
        except RolledBackError as exc:
            with journal.lock:
                journal.state.switch = None

            self.installer.discard(release.version.release_id)
            journal.finish(
                st.ROLLED_BACK,
                str(release.version),
                f"Version {release.version} failed after the switch and "
                f"{journal.running} was put back: {exc}.",
            )
        except (InstallError, OSError) as exc:
            with journal.lock:
                journal.state.switch = None

            journal.finish(
                st.FAILED, str(release.version), f"The switch failed: {exc}."
            )

    def _back_since(self, service: str, since: datetime, switch: st.Switch) -> bool:
        # The updater itself is back when this process runs the new release;
        # the others when they came online after the switch.
        if service == "updater":
            return self.journal.running.release_id == switch.to_release

        state, at = self._presence.get(service, ("", None))
        return state == "online" and at is not None and at >= since

    def _settle(self, switch: st.Switch, outcome: str, reason: str) -> None:
        journal = self.journal

        with journal.lock:
            journal.state.switch = None

            if outcome == st.UPDATED:
                journal.state.last_update = st.iso(journal.now())
                journal.metrics.last_update.set(journal.clock())
                self.installer.prune()

        record = st.Record(
            at=st.iso(journal.now()),
            from_version=switch.from_version,
            to_version=switch.to_version,
            outcome=outcome,
            reason=reason,
        )
        journal.conclude(outcome, record, reason)

        if outcome == st.UPDATED:
            log.info("Updated to %s", switch.to_version)
        else:
            log.error("Update to %s rolled back: %s", switch.to_version, reason)
