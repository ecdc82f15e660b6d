"""The inventory service's one worker: triggers in, reports built and delivered.

Bus handlers and gRPC calls only record what happened and wake the worker;
the worker thread alone looks at the host, builds reports, queues them in
the outbox and sends them, so a slow cloud never blocks an event.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from datetime import time as time_of_day
from pathlib import Path
from typing import Any

from services.common.hostzone import host_zone_name
from services.common.profiles import Profile
from services.common.state import StateStore
from services.common.version import build_info
from services.inventory import schedule
from services.inventory.announce import (
    GATEWAY,
    PLATFORM,
    SUBMISSION,
    Status,
    gateway_state,
    platform_state,
    submission_state,
)
from services.inventory.courier import Courier
from services.inventory.facts import PlatformFacts, gather_host, survey_platform
from services.inventory.report import (
    SystemIdentity,
    TunnelStatus,
    build_report,
    encode,
    stronger,
    timestamp,
)

log = logging.getLogger(__name__)

TUNNELS = "cld/tunnel/tunnels/#"

# Longest the worker sleeps without a reason, so a missed wake-up costs little.
_IDLE = 30.0

# How long a preview stays the report "Submit" sends; older, the system may
# have changed enough that a fresh report is the honest one.
PREVIEW_KEPT = 600.0


class NotLinkedError(Exception):
    """The system is not linked, so no report can be built or sent."""


@dataclass(frozen=True)
class Settings:
    """The timings the reporter works to."""

    debounce: float
    rescan: float
    daily_at: time_of_day | None


@dataclass(frozen=True)
class Preview:
    """A report shown by Preview, kept to be sent as it was shown."""

    report_id: str
    system_id: str
    created: str
    data: bytes
    made: float


Publish = Callable[[str, dict[str, Any]], None]


class Reporter:
    """Decides when a report is due, builds it, and delivers the outbox."""

    def __init__(
        self,
        *,
        profile: Profile,
        host_root: Path,
        settings: Settings,
        store: StateStore,
        courier: Courier,
        publish: Publish,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.profile = profile
        self.host_root = host_root
        self.settings = settings
        self.store = store
        self.courier = courier
        self.outbox = courier.outbox
        self.publish = publish
        self.clock = clock
        self.wake = threading.Condition()
        self._state: dict[str, Any] = store.load() or {}
        self._identity: SystemIdentity | None = None
        self._tunnels: dict[tuple[str, str], TunnelStatus] = {}
        self._facts = survey_platform(profile, host_root)
        self._next_rescan = clock() + settings.rescan
        self._daily = schedule.DailyPlan(settings.daily_at, host_zone_name(host_root))
        self._pending: schedule.Pending | None = schedule.add_trigger(
            None, "restart", clock(), settings.debounce
        )
        self._build_lock = threading.Lock()
        self._preview: Preview | None = None
        self._announced: dict[str, Any] = {}

    # Events, from bus and gRPC threads.

    def on_link(self, topic: str, payload: dict[str, Any]) -> None:
        """The registration service's retained link state changed."""

        system_id = str(payload.get("system_id", ""))
        linked = payload.get("state") == "linked" and bool(system_id)

        with self.wake:
            if not linked:
                if self._identity is not None:
                    log.info("Not linked any more; reports wait for a link")

                self._identity = None
                self._daily.system_id = ""
                self._replan()
                self.wake.notify_all()
                return

            identity = SystemIdentity(system_id, str(payload.get("account_guid", "")))
            changed = identity != self._identity
            self._identity = identity

            if changed:
                self._daily.system_id = system_id
                self._replan()

            # A system id other than the last reported one is a new link, even
            # when it was made while this service was not running.
            if changed and system_id != self._state.get("reported_system_id"):
                log.info("Linked as system %s; a report follows", system_id)
                self._trigger("link")

            self.wake.notify_all()

    def on_tunnel(self, topic: str, payload: dict[str, Any]) -> None:
        """A tunnel's retained state changed."""

        parts = topic.split("/")

        if len(parts) != 5:
            return

        key = (parts[3], parts[4])
        status = (
            TunnelStatus(str(payload["state"]), str(payload.get("reason", "")))
            if payload.get("state")
            else None
        )

        with self.wake:
            if self._tunnels.get(key) == status:
                return

            if status is None:
                self._tunnels.pop(key, None)
            else:
                self._tunnels[key] = status

            self._trigger("change")

    def trigger(self, reason: str) -> None:
        """Asks for a report for ``reason``, debounced."""

        with self.wake:
            self._trigger(reason)

    def submit_now(self, wait: float) -> str:
        """Queues a report now and waits up to ``wait`` s for its delivery.

        A report previewed a moment ago is the one sent, byte for byte, so
        what an administrator looked at is what the cloud receives.
        """

        report_id = self._queue_preview() or self._build("manual")

        if report_id is None:
            raise NotLinkedError("This system is not linked to CloudLink.")

        with self.wake:
            self.courier.hurry()
            self.wake.notify_all()
            self.wake.wait_for(lambda: not self.outbox.contains(report_id), wait)

        return report_id

    def preview(self) -> bytes:
        """The bytes a report built now would carry."""

        identity = self._identity

        if identity is None:
            raise NotLinkedError("This system is not linked to CloudLink.")

        report_id = str(uuid.uuid4())
        created, report = self._report("manual", identity, report_id)
        data = encode(report)

        with self.wake:
            self._preview = Preview(
                report_id, identity.system_id, created, data, self.clock()
            )

        return data

    def facts(self) -> PlatformFacts:
        """What the last look at the host found."""

        with self.wake:
            return self._facts

    def status(self) -> Status:
        """Last and next submission and the outbox."""

        with self.wake:
            return Status(
                last_submission=self.courier.last_submission,
                next_submission=self._next_submission(),
                outbox_depth=self.outbox.depth(),
                rejected=self.outbox.rejected_count(),
                last_error=self.courier.last_error,
                last_result=self.courier.last_result,
                linked=self._identity is not None,
            )

    # The worker.

    def run(self, stopping: threading.Event) -> None:
        """Works until ``stopping`` is set."""

        self._announce_facts()

        while not stopping.is_set():
            try:
                self._step()
            except Exception:
                log.exception("An inventory step failed; trying again shortly")
                stopping.wait(1.0)

            with self.wake:
                self.wake.wait(self._sleep())

    def stop(self) -> None:
        """Wakes the worker so it sees it must stop."""

        with self.wake:
            self.wake.notify_all()

    def _step(self) -> None:
        now = self.clock()

        if now >= self._next_rescan:
            self._rescan()
            self._next_rescan = now + self.settings.rescan

        with self.wake:
            if self._daily.due is not None and now >= self._daily.due.timestamp():
                self._replan()
                self._pending = schedule.add_trigger(
                    self._pending, "daily", now, self.settings.debounce, immediate=True
                )

            due = (
                self._pending is not None
                and self._identity is not None
                and now >= self._pending.due_at
            )

        if due:
            self._build(None)

        with self.wake:
            identity = self._identity

        if identity is not None:
            self.courier.deliver_due(identity.system_id)

        with self.wake:
            self.wake.notify_all()

        self._announce_submission()

    def _rescan(self) -> None:
        zone = host_zone_name(self.host_root)

        with self.wake:
            if zone != self._daily.zone:
                log.info("The host's time zone is now %s; daily reports follow", zone)
                self._daily.zone = zone
                self._replan()

        facts = survey_platform(self.profile, self.host_root)

        if facts.change_key() != self._facts.change_key():
            log.info(
                "Installed components changed",
                extra={"components": [c.id for c in facts.components]},
            )
            self._facts = facts
            self._announce_facts()
            self.trigger("change")

    def _queue_preview(self) -> str | None:
        """Queues the last preview if it is recent and for this system."""

        with self._build_lock:
            with self.wake:
                preview, self._preview = self._preview, None
                identity = self._identity

                if (
                    preview is None
                    or identity is None
                    or preview.system_id != identity.system_id
                    or self.clock() - preview.made > PREVIEW_KEPT
                ):
                    return None

            self.outbox.add(
                preview.report_id,
                preview.system_id,
                "manual",
                preview.created,
                preview.data,
            )

        log.info(
            "Queued the previewed inventory report",
            extra={"report_id": preview.report_id, "reason": "manual"},
        )
        return preview.report_id

    def _build(self, reason: str | None) -> str | None:
        """Queues one report for the pending triggers and ``reason``, if any."""

        with self._build_lock:
            with self.wake:
                identity = self._identity
                pending = self._pending.reason if self._pending else None
                merged = stronger(reason, pending) if reason else pending

                if identity is None or merged is None:
                    return None

                self._pending = None

            report_id = str(uuid.uuid4())
            created, report = self._report(merged, identity, report_id)
            self.outbox.add(
                report_id, identity.system_id, merged, created, encode(report)
            )

            with self.wake:
                self._state["reported_system_id"] = identity.system_id
                self.store.save(self._state)

        log.info(
            "Queued an inventory report (%s)",
            merged,
            extra={"report_id": report_id, "reason": merged},
        )
        return report_id

    def _report(
        self, reason: str, identity: SystemIdentity, report_id: str
    ) -> tuple[str, dict[str, Any]]:
        facts = survey_platform(self.profile, self.host_root)

        with self.wake:
            tunnels = dict(self._tunnels)
            changed = facts.change_key() != self._facts.change_key()
            self._facts = facts

        # The report already carries the change, so the next look at the
        # host must not ask for another report for it.
        if changed:
            self._announce_facts()

        created = datetime.now(UTC)
        report = build_report(
            report_id=report_id,
            reason=reason,
            created_at=created,
            system=identity,
            profile=self.profile,
            platform=facts,
            host=gather_host(self.host_root),
            build=build_info(),
            tunnels=tunnels,
        )
        return timestamp(created), report

    def _trigger(self, reason: str) -> None:
        self._pending = schedule.add_trigger(
            self._pending, reason, self.clock(), self.settings.debounce
        )
        self.wake.notify_all()

    def _sleep(self) -> float:
        now = self.clock()
        moments = [self._next_rescan, now + _IDLE]

        if self._daily.due is not None:
            moments.append(self._daily.due.timestamp())

        if self._identity is not None:
            if self._pending is not None:
                moments.append(self._pending.due_at)

            if self.courier.retry_at and self.outbox.depth():
                moments.append(self.courier.retry_at)

        return max(0.0, min(moments) - now)

    def _next_submission(self) -> datetime | None:
        if self._identity is None or self._daily.due is None:
            return None

        moments = [self._daily.due.timestamp()]

        if self._pending is not None:
            moments.append(self._pending.due_at)

        if self.outbox.depth():
            moments.append(max(self.courier.retry_at, self.clock()))

        return datetime.fromtimestamp(min(moments), UTC)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def _replan(self) -> None:
        due = self._daily.plan(self._now())

        if due is not None:
            log.info(
                "The next daily inventory report is at %s (%s)",
                due.isoformat(timespec="minutes"),
                self._daily.describe(),
            )

    def _announce_facts(self) -> None:
        self.publish(PLATFORM, platform_state(self.profile, self._facts))
        self.publish(GATEWAY, gateway_state(self.profile, self._facts))

    def _announce_submission(self) -> None:
        payload = submission_state(self.status())

        if payload != self._announced:
            self._announced = payload
            self.publish(SUBMISSION, payload)
