"""Delivering the outbox, oldest first, with backoff while the cloud is away."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from services.common.state import StateStore
from services.inventory import schedule
from services.inventory.delivery import Outcome, Result, TokenError
from services.inventory.outbox import Entry, Outbox

log = logging.getLogger(__name__)


class Tokens(Protocol):
    """Where access tokens come from."""

    def token(self) -> str: ...


class Submitter(Protocol):
    """Where reports go."""

    def submit(self, token: str, entry: Entry) -> Outcome: ...


Count = Callable[[Result], None]


class Courier:
    """Sends queued reports in order and remembers how the last one went.

    A report that fails for a passing reason stays first in line, so reports
    arrive in the order they were made; one the cloud refuses is set aside
    and the next goes at once. Reports made for another system id than the
    linked one are set aside unsent: they describe the host as it was under
    a link that is gone, and the new link brings a fresh report of its own.
    """

    def __init__(
        self,
        outbox: Outbox,
        tokens: Tokens,
        cloud: Submitter,
        store: StateStore,
        count: Count,
        retry_max: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.outbox = outbox
        self.tokens = tokens
        self.cloud = cloud
        self.store = store
        self.count = count
        self.retry_max = retry_max
        self.clock = clock
        self._lock = threading.Lock()
        self._state: dict[str, Any] = store.load() or {}
        self._failures = 0
        self._retry_at = 0.0

    @property
    def retry_at(self) -> float:
        """When the next attempt may be made; 0 when at once."""

        return self._retry_at

    @property
    def last_submission(self) -> datetime | None:
        """When the cloud last stored a report."""

        last = self._state.get("last_submission")
        return datetime.fromisoformat(last) if last else None

    @property
    def last_error(self) -> str:
        """Why the last attempt failed; empty after a success."""

        return str(self._state.get("last_error", ""))

    @property
    def last_result(self) -> str:
        """The result of the last attempt."""

        return str(self._state.get("last_result", ""))

    def hurry(self) -> None:
        """Lets the next attempt be made at once."""

        self._retry_at = 0.0

    def deliver_due(self, system_id: str) -> None:
        """Sends ``system_id``'s reports until none is left or an attempt fails."""

        self._supersede_others(system_id)

        while self.clock() >= self._retry_at:
            entry = self.outbox.oldest()

            if entry is None or not self._deliver(entry):
                return

    def _supersede_others(self, system_id: str) -> None:
        for entry in self.outbox.entries():
            if entry.system_id == system_id:
                continue

            why = (
                f"made for system {entry.system_id}, but this host is now linked "
                f"as system {system_id}"
            )
            aside = self.outbox.supersede(entry, why)
            log.warning(
                "Inventory report %s not sent: %s; kept aside as %s",
                entry.report_id,
                why,
                aside,
                extra={"report_id": entry.report_id, "reason": entry.reason},
            )

    def _deliver(self, entry: Entry) -> bool:
        try:
            outcome = self.cloud.submit(self.tokens.token(), entry)
        except TokenError as exc:
            outcome = Outcome(Result.FAILED, str(exc))

        self.count(outcome.result)

        with self._lock:
            if outcome.result in {Result.DELIVERED, Result.DUPLICATE}:
                self._delivered(entry, outcome)
            elif outcome.result is Result.REJECTED:
                self._rejected(entry, outcome)
            else:
                self._failed(entry, outcome)

            self._state["last_result"] = outcome.result.value
            self.store.save(self._state)

        return outcome.result is not Result.FAILED

    def _delivered(self, entry: Entry, outcome: Outcome) -> None:
        self.outbox.delivered(entry)
        self._failures = 0
        self._retry_at = 0.0
        self._state["last_submission"] = datetime.now(UTC).isoformat()
        self._state["last_report_id"] = entry.report_id
        self._state["last_error"] = ""
        log.info(
            "Delivered inventory report %s (%s)",
            entry.report_id,
            outcome.result.value,
            extra={"report_id": entry.report_id, "reason": entry.reason},
        )

    def _rejected(self, entry: Entry, outcome: Outcome) -> None:
        aside = self.outbox.reject(entry, outcome.detail)
        self._state["last_error"] = outcome.detail
        log.error(
            "CloudLink rejected inventory report %s; kept aside as %s: %s",
            entry.report_id,
            aside,
            outcome.detail,
            extra={"report_id": entry.report_id},
        )

    def _failed(self, entry: Entry, outcome: Outcome) -> None:
        self.outbox.attempted(entry)
        self._failures += 1
        delay = schedule.retry_delay(self._failures, self.retry_max)
        self._retry_at = self.clock() + delay
        self._state["last_error"] = outcome.detail
        log.warning(
            "Inventory report %s not delivered (%s); retrying in %.0fs",
            entry.report_id,
            outcome.detail,
            delay,
            extra={"report_id": entry.report_id, "attempt": self._failures},
        )
