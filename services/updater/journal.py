"""The updater's state as it changes: saved, published, counted, logged.

Every change is saved before it is published, so what the bus shows has
survived a crash. Both the scheduler (``updater``) and the application of
a release (``apply``) write through here, under one lock.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from services.common import topics
from services.common.state import StateStore
from services.updater import status as st
from services.updater.metrics import UpdaterMetrics
from services.updater.versions import ReleaseVersion

log = logging.getLogger(__name__)

STATE_TOPIC = topics.topic("updater", "state")

Publish = Callable[[str, dict[str, Any]], None]


class Journal:
    """The one writer of the updater's state file and retained state."""

    def __init__(
        self,
        store: StateStore,
        publish: Publish,
        metrics: UpdaterMetrics,
        running: ReleaseVersion,
        clock: Callable[[], float],
    ) -> None:
        self.store = store
        self.publish = publish
        self.metrics = metrics
        self.running = running
        self.clock = clock
        self.lock = threading.RLock()
        self.state = self._load()

    def _load(self) -> st.UpdaterState:
        stored = self.store.load()
        state = st.UpdaterState.from_dict(stored) if stored else st.UpdaterState.fresh()

        # Whatever was under way died with the process that did it; only a
        # switch is picked up again, as the new version confirms it.
        if state.switch is None and state.progress not in {"", st.DONE, st.ROLLED_BACK}:
            state.progress, state.progress_detail = "", ""

        self.store.save(state.as_dict())
        return state

    def now(self) -> datetime:
        """The clock's time as an aware UTC instant."""

        return datetime.fromtimestamp(self.clock(), UTC)

    def status(self) -> dict[str, Any]:
        """The state as the dashboard shows it, with what is running."""

        with self.lock:
            document = self.state.as_dict()
            document["schedule_text"] = self.state.schedule.describe()

        document["installed_version"] = self.running.version
        document["installed_build_number"] = self.running.build_number
        document["update_available"] = self._available_is_newer(document)
        return document

    def announce(self) -> None:
        """Publishes the current state and sets the metrics from it."""

        with self.lock:
            self.metrics.paused.set(float(self.state.paused))

            for gauge, moment in (
                (self.metrics.last_check, self.state.last_check),
                (self.metrics.last_update, self.state.last_update),
            ):
                parsed = st.parse_iso(moment)

                if parsed is not None:
                    gauge.set(parsed.timestamp())

            self._publish()

    def save(self) -> None:
        """Saves the state, then publishes it; call with the lock held."""

        self.store.save(self.state.as_dict())
        self._publish()

    def progress(self, progress: str, detail: str) -> None:
        """Records the step an update is at."""

        with self.lock:
            self.state.progress = progress
            self.state.progress_detail = detail
            self.save()

    def set_available(self, version: ReleaseVersion | None) -> None:
        """Records the release the channel offers (None: nothing newer)."""

        with self.lock:
            self.state.available_version = version.version if version else ""
            self.state.available_build_number = version.build_number if version else ""

    def finish(
        self, outcome: str, offered: str, reason: str, record: bool = True
    ) -> None:
        """Ends a check or an update: counted, logged, and kept in the history.

        Only outcomes worth a line on the dashboard's history are recorded;
        every one is counted and leaves its reason as the last error.
        """

        entry = st.Record(
            at=st.iso(self.now()),
            from_version=str(self.running),
            to_version=offered,
            outcome=outcome,
            reason=reason,
        )

        if outcome in {st.REFUSED, st.ROLLED_BACK}:
            log.error("%s", reason)
        elif outcome == st.FAILED:
            log.warning("%s", reason)

        self.conclude(outcome, entry if record else None, reason)

    def conclude(self, outcome: str, entry: st.Record | None, reason: str) -> None:
        """Counts ``outcome``, keeps ``entry`` and sets the progress it ends in."""

        self.metrics.results.labels(outcome=outcome.replace(" ", "_")).inc()
        ends_in = {st.UPDATED: st.DONE, st.ROLLED_BACK: st.ROLLED_BACK}

        with self.lock:
            if entry is not None:
                self.state.add_record(entry)

            self.state.last_error = reason
            self.state.progress = ends_in.get(outcome, "")
            self.state.progress_detail = ""
            self.save()

    def _available_is_newer(self, document: dict[str, Any]) -> bool:
        if not document["available_version"]:
            return False

        try:
            offered = ReleaseVersion(
                document["available_version"], document["available_build_number"]
            )
        except ValueError:
            return False

        return offered > self.running

    def _publish(self) -> None:
        try:
            self.publish(STATE_TOPIC, self.status())
        except Exception:
            log.exception("Could not publish the update state")
