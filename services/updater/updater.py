"""The updater: checks on schedule and hands newer releases to be applied.

One worker thread does the slow work (checks, downloads, trials, waiting
for a switched version to come up); requests from the dashboard only change
the state and wake it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import grpc
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.common.hostzone import zone_named
from services.updater import status as st
from services.updater.apply import Applier
from services.updater.channel import Channel, ChannelError, ChannelUnreachableError
from services.updater.journal import Journal
from services.updater.keys import KeysError
from services.updater.manifest import ManifestError, Release, verify
from services.updater.schedule import Schedule, next_run

log = logging.getLogger(__name__)

# The worker wakes at least this often to notice a changed host time zone.
IDLE_WAKE = 60.0
SWITCH_POLL = 0.25

# A run this far behind its time was missed (the system was off): it is
# not made up during the day, only checked.
MISSED_AFTER = timedelta(minutes=5)


class UpdaterError(Exception):
    """A request the updater refuses, with the gRPC status describing it."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class RefusedError(Exception):
    """A release that must not be applied; the message is the reason."""

    def __init__(self, reason: str, offered: str = "") -> None:
        super().__init__(reason)
        self.offered = offered


Keys = Callable[[], dict[str, Ed25519PublicKey]]


class Updater:
    """Owner of the update schedule, the pause flag and the update history."""

    def __init__(
        self,
        journal: Journal,
        *,
        channel: Channel,
        applier: Applier,
        keys: Keys,
        zone: Callable[[], str],
    ) -> None:
        self.journal = journal
        self.channel = channel
        self.applier = applier
        self.keys = keys
        self.zone = zone
        self.wakeup = threading.Event()
        self._update_requested = False
        self._busy = False

    @property
    def state(self) -> st.UpdaterState:
        """The current state (read it under ``journal.lock`` to change it)."""

        return self.journal.state

    # Requests from the dashboard.

    def status(self) -> dict[str, Any]:
        """The state as the dashboard shows it, with what is running."""

        return self.journal.status()

    def reschedule(self, schedule: Schedule) -> None:
        """Sets a new schedule and the next check that follows from it."""

        with self.journal.lock:
            self.state.schedule = schedule
            self.state.default_schedule = False
            self.state.next_check = st.iso(self._next_after(self.journal.now()))
            self.journal.save()

        log.info("Updates rescheduled: %s", schedule.describe())
        self.wakeup.set()

    def set_paused(self, paused: bool) -> None:
        """Pauses or resumes scheduled updates."""

        with self.journal.lock:
            if self.state.paused == paused:
                return

            self.state.paused = paused
            self.journal.metrics.paused.set(float(paused))
            self.journal.save()

        log.info("Updates %s", "paused" if paused else "resumed")

    def update_now(self) -> None:
        """Asks the worker to check and apply now; refused while one runs."""

        with self.journal.lock:
            if self._busy or self._update_requested or self.state.switch:
                raise UpdaterError(
                    grpc.StatusCode.FAILED_PRECONDITION,
                    "An update is already in progress; wait for it to finish.",
                )

            self._update_requested = True
            self.state.progress, self.state.progress_detail = st.CHECKING, ""
            self.journal.save()

        self.wakeup.set()

    def on_presence(self, topic: str, payload: dict[str, Any]) -> None:
        """Passes a service's online/offline on, to confirm a switch."""

        self.applier.on_presence(topic, payload)

        if self.state.switch is not None:
            self.wakeup.set()

    # The worker.

    def announce(self) -> None:
        """Publishes the current state (retained) and sets the metrics."""

        self.journal.announce()

    def run(self, stopping: threading.Event) -> None:
        """Works until ``stopping`` is set."""

        while not stopping.is_set():
            try:
                delay = self.tick()
            except Exception:
                log.exception("The update worker failed; trying again in a minute")
                delay = IDLE_WAKE

            self.wakeup.wait(delay)
            self.wakeup.clear()

    def tick(self) -> float:
        """Does what is due now; returns the seconds until it should run again."""

        now = self.journal.now()

        if self.state.switch is not None:
            return SWITCH_POLL if self.applier.confirm(now) else 0.0

        self._follow_zone(now)

        with self.journal.lock:
            requested, self._update_requested = self._update_requested, False
            self._busy = self._busy or requested
            due = st.parse_iso(self.state.next_check)

        if requested:
            self._check(now, apply=True)
        elif due is None or due <= now:
            missed = due is not None and now - due > MISSED_AFTER
            self._check(now, apply=not (self.state.paused or missed))

        if self.state.switch is not None:
            return SWITCH_POLL

        due = st.parse_iso(self.state.next_check)
        wait = (due - self.journal.now()).total_seconds() if due else IDLE_WAKE
        return max(0.05, min(wait, IDLE_WAKE))

    def _follow_zone(self, now: datetime) -> None:
        name = self.zone()

        with self.journal.lock:
            if name == self.state.time_zone and self.state.next_check:
                return

            if self.state.time_zone:
                log.info(
                    "The host's time zone changed from %s to %s; rescheduling",
                    self.state.time_zone,
                    name,
                )

            self.state.time_zone = name
            self.state.next_check = st.iso(self._next_after(now))
            self.journal.save()

    def _check(self, now: datetime, apply: bool) -> None:
        with self.journal.lock:
            self._busy = True

        try:
            self.journal.progress(st.CHECKING, "")

            try:
                release = self._fetch_release()
            finally:
                with self.journal.lock:
                    self.state.last_check = st.iso(now)
                    self.state.next_check = st.iso(self._next_after(now))
                    self.journal.metrics.last_check.set(now.timestamp())
                    self.journal.save()

            if release is None:
                return

            if not apply:
                log.info("Release %s is available; not applied now", release.version)
                self.journal.progress("", "")
                return

            self.applier.apply(release)
        finally:
            with self.journal.lock:
                self._busy = False

    def _fetch_release(self) -> Release | None:
        """The newer release on the channel, or None with the reason recorded."""

        journal = self.journal

        try:
            envelope = self.channel.latest()
        except ChannelUnreachableError as exc:
            journal.finish(st.UNREACHABLE, "", str(exc), record=False)
            log.warning("Update check failed: %s", exc)
            return None
        except ChannelError as exc:
            journal.finish(st.FAILED, "", str(exc), record=False)
            log.warning("Update check failed: %s", exc)
            return None

        if envelope is None:
            journal.set_available(None)
            journal.finish(st.UP_TO_DATE, "", "", record=False)
            return None

        try:
            release = self._verified(envelope)
        except RefusedError as exc:
            journal.finish(st.REFUSED, exc.offered, str(exc))
            return None

        journal.set_available(release.version)

        if release.version == journal.running:
            journal.finish(st.UP_TO_DATE, str(release.version), "", record=False)
            return None

        log.info(
            "Release %s is available (running %s)", release.version, journal.running
        )
        return release

    def _verified(self, envelope: Any) -> Release:
        try:
            release = verify(envelope, self.keys())
        except (ManifestError, KeysError) as exc:
            raise RefusedError(f"The offered release was refused: {exc}.") from None

        if release.channel != self.channel.name:
            raise RefusedError(
                f"The offered release {release.version} is for channel "
                f"{release.channel}, not {self.channel.name}; it was refused.",
                str(release.version),
            )

        if release.version < self.journal.running:
            raise RefusedError(
                f"The offered release {release.version} is older than the running "
                f"{self.journal.running}; a downgrade was refused.",
                str(release.version),
            )

        return release

    def _next_after(self, moment: datetime) -> datetime:
        zone = zone_named(self.state.time_zone or self.zone())
        return next_run(self.state.schedule, moment, zone)
