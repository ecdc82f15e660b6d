"""Runs full syncs in the background, resuming them across failures.

One worker thread drives the current sync: it lists this system's cloud
users, plans, journals the plan, then applies the writes a few at a time.
When the cloud cannot be reached, or the system is not linked, the sync
waits with the problem and tries again after a capped, doubling delay; a
restart picks it up from its journal. Its writes go through the same
``UserWriter`` as single-user changes (``single``), one lock per extension.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import datetime
from typing import Any

import grpc

from services.common import topics
from services.registration.cloud_api import CloudRejectedError, CloudUnreachableError
from services.registration.link import LinkError
from services.registration.provisioning.cloud_users import UsersClient
from services.registration.provisioning.metrics import ProvisioningMetrics
from services.registration.provisioning.plan import (
    Action,
    Outcome,
    Result,
    Step,
    duplicate_extensions,
    plan_sync,
)
from services.registration.provisioning.syncs import (
    SyncBook,
    SyncRecord,
    SyncState,
    now_iso,
)
from services.registration.provisioning.users import PmUser, normalise
from services.registration.provisioning.writes import Unreachable, UserWriter

log = logging.getLogger(__name__)

TOPIC = topics.topic("registration", "provisioning")
"""Retained: the sync state, counts and totals; never an e-mail or a token."""

NOT_LINKED = "This system is not linked to CloudLink."

# Progress goes to the bus at most this often while a sync writes.
PUBLISH_EVERY = 1.0

Tokens = Callable[[], tuple[str, str]]
Publish = Callable[[str, dict[str, Any]], None]


class ProvisioningError(Exception):
    """A request that cannot be served, with the gRPC status describing it."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Provisioner:
    """The one owner of this system's provisioned users and its syncs.

    ``tokens`` returns the link's access token and system id, raising
    LinkError when there is no usable link.
    """

    def __init__(
        self,
        book: SyncBook,
        client: UsersClient,
        tokens: Tokens,
        account_name: Callable[[], str],
        publish: Publish,
        metrics: ProvisioningMetrics,
        user_limit: int,
        retry_max: float,
        writers: int = 4,
    ) -> None:
        self.book = book
        self.client = client
        self.tokens = tokens
        self.account_name = account_name
        self.publish = publish
        self.metrics = metrics
        self.user_limit = user_limit
        self.retry_max = retry_max
        self.writers = writers
        self.wakeup = threading.Event()
        self._lock = threading.RLock()
        self._published = 0.0
        self.writer = UserWriter(client, self._add_provisioned)

        self.metrics.users.set(book.provisioned_users)
        last = book.syncs.get(book.last_completed)

        if last is not None and last.finished_at:
            self.metrics.last_full_sync.set(
                datetime.fromisoformat(last.finished_at).timestamp()
            )

    def start_sync(self, users: list[PmUser]) -> SyncRecord:
        """Stores a new sync of PM's ``users`` and wakes the worker.

        Raises ProvisioningError INVALID_ARGUMENT when an extension is
        listed twice.
        """

        users = [normalise(u) for u in users]
        twice = duplicate_extensions(users)

        if twice:
            raise ProvisioningError(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"The list gives extension {', '.join(twice[:5])} more than once; "
                "each user must appear once.",
            )

        with self._lock:
            previous = self.book.current()

            if previous is not None:
                previous.state = SyncState.SUPERSEDED
                previous.finished_at = now_iso()
                self.book.save(previous)
                log.info("Sync %s superseded", previous.sync_id)

            record = self.book.start(users)

        log.info("Sync %s started with %d users", record.sync_id, len(users))
        self.metrics.sync_running.set(1)
        self.announce()
        self.wakeup.set()
        return record

    def run(self, stopping: threading.Event) -> None:
        """Drives syncs until ``stopping`` is set."""

        delay = 0.0

        while not stopping.is_set():
            with self._lock:
                record = self.book.current()

            if record is None:
                self.metrics.sync_running.set(0)
                self.wakeup.wait()
                self.wakeup.clear()
                continue

            try:
                problem = self._drive(record, stopping)
            except Exception as exc:
                log.exception("Sync %s failed unexpectedly", record.sync_id)
                problem = f"The sync failed unexpectedly ({type(exc).__name__})."

            if problem is None:
                delay = 0.0
                continue

            delay = min(self.retry_max, max(1.0, delay * 2))
            self._wait(record, problem)
            self.wakeup.wait(delay)
            self.wakeup.clear()

        self.book.close()

    def stop(self) -> None:
        """Lets the worker see that it must stop."""

        self.wakeup.set()

    def sync(self, sync_id: str) -> SyncRecord | None:
        """A kept sync by id."""

        with self._lock:
            return self.book.syncs.get(sync_id)

    def status(self) -> tuple[SyncRecord | None, SyncRecord | None]:
        """The unfinished sync, if any, and the last completed one."""

        with self._lock:
            return self.book.current(), self.book.syncs.get(self.book.last_completed)

    def announce(self) -> None:
        """Publishes the provisioning state (retained) on the bus."""

        current, last = self.status()
        payload: dict[str, Any] = {
            "state": current.state if current else "idle",
            "provisionedUsers": self.book.provisioned_users,
            "userLimit": self.user_limit,
            "rejectedTotal": self.book.rejected_total,
            "lastCompletedAt": last.finished_at if last else "",
            "lastCompletedCounts": asdict(last.counts()) if last else {},
        }

        if current is not None:
            payload.update(
                syncId=current.sync_id,
                total=len(current.users),
                counts=asdict(current.counts()),
                problem=current.problem,
            )

        self._published = time.monotonic()
        self.publish(TOPIC, payload)

    def _drive(self, record: SyncRecord, stopping: threading.Event) -> str | None:
        self.metrics.sync_running.set(1)

        try:
            token, system_id = self.tokens()
        except LinkError as exc:
            if exc.code == grpc.StatusCode.FAILED_PRECONDITION:
                return NOT_LINKED

            return exc.message

        self._set_state(record, SyncState.RUNNING, "")

        try:
            if record.plan is None:
                self._plan(record, token, system_id)
            else:
                log.info(
                    "Sync %s resumes with %d writes left",
                    record.sync_id,
                    len(record.steps_to_apply()),
                )

            for phase in (Action.REMOVE, Action.UPDATE, Action.CREATE):
                steps = [s for s in record.steps_to_apply() if s.action is phase]
                self._apply(record, steps, token, system_id, stopping)

            self._retry_moved_addresses(record, token, system_id, stopping)
        except Unreachable as exc:
            self.book.journal(record).flush()
            return str(exc)

        if record.state == SyncState.SUPERSEDED:
            self.book.close_journal(record)
            return None

        if stopping.is_set():
            self.book.journal(record).flush()
            return None

        self._finish(record)
        return None

    def _plan(self, record: SyncRecord, token: str, system_id: str) -> None:
        try:
            cloud = self.client.list_system(token, system_id)
        except (CloudUnreachableError, CloudRejectedError) as exc:
            raise Unreachable(str(exc)) from exc

        plan = plan_sync(record.users, cloud, self.user_limit)

        with self._lock:
            if record.state == SyncState.SUPERSEDED:
                return

            self.book.record_plan(record, plan)
            self.set_provisioned(len(cloud))

        for step in plan:
            settled = record.results.get(step.extension)

            if settled is not None:
                self._counted("sync", settled)

    def _apply(
        self,
        record: SyncRecord,
        steps: list[Step],
        token: str,
        system_id: str,
        stopping: threading.Event,
        retrying: bool = False,
    ) -> None:
        users = {u.extension: u for u in record.users}
        broken = threading.Event()

        def one(step: Step) -> None:
            if broken.is_set() or stopping.is_set():
                return

            if record.state == SyncState.SUPERSEDED:
                return

            try:
                result = self.writer.apply(
                    step, users.get(step.extension), token, system_id, record.sync_id
                )
            except Unreachable:
                broken.set()
                raise

            # A second refusal changes nothing: the first one stands.
            if retrying and result.outcome is Outcome.REJECTED:
                return

            self.book.record_result(record, result)

            # A refused address may yet be given up by another user of this
            # sync; such a refusal is counted once no retry can cure it.
            if not _address_in_use(step, result):
                self._counted("sync", result)

            if time.monotonic() - self._published >= PUBLISH_EVERY:
                self.announce()

        with ThreadPoolExecutor(self.writers, thread_name_prefix="provision") as pool:
            futures = [pool.submit(one, step) for step in steps]

        for future in futures:
            error = future.exception()

            if error is not None:
                raise error

    def _retry_moved_addresses(
        self,
        record: SyncRecord,
        token: str,
        system_id: str,
        stopping: threading.Event,
    ) -> None:
        """Writes again the users refused an address that another one gave up.

        An e-mail address can move from one user to another in one sync;
        when the taker was written first, the cloud refused it as in use.
        Each pass frees the addresses its writes gave up, so passes go on
        while one gets further; an exchange of addresses never does, and its
        users stay refused.
        """

        waiting = _address_refused(record)

        while waiting and not stopping.is_set():
            self._apply(record, waiting, token, system_id, stopping, retrying=True)
            still = _address_refused(record)

            if len(still) >= len(waiting):
                break

            log.info(
                "Sync %s: written again once another user gave up the address: %d",
                record.sync_id,
                len(waiting) - len(still),
            )
            waiting = still

        if not stopping.is_set():
            for step in waiting:
                self._counted("sync", record.results[step.extension])

    def _finish(self, record: SyncRecord) -> None:
        with self._lock:
            record.state = SyncState.DONE
            record.finished_at = now_iso()
            record.problem = ""
            self.book.save(record)
            self.book.close_journal(record)
            self.book.last_completed = record.sync_id
            self.book.save_index()

        counts = record.counts()
        log.info(
            "Sync %s done: %d created, %d updated, %d unchanged, %d removed, "
            "%d rejected",
            record.sync_id,
            counts.created,
            counts.updated,
            counts.unchanged,
            counts.removed,
            counts.rejected,
            extra={"sync_id": record.sync_id, "counts": asdict(counts)},
        )
        self.metrics.last_full_sync.set(
            datetime.fromisoformat(record.finished_at).timestamp()
        )
        self.metrics.sync_running.set(0)
        self.announce()

    def _wait(self, record: SyncRecord, problem: str) -> None:
        if record.problem != problem or record.state != SyncState.WAITING:
            log.warning("Sync %s waits: %s", record.sync_id, problem)

        self._set_state(record, SyncState.WAITING, problem)

    def _set_state(self, record: SyncRecord, state: str, problem: str) -> None:
        with self._lock:
            if record.finished:
                return

            changed = (record.state, record.problem) != (state, problem)
            record.state = state
            record.problem = problem

            if changed:
                self.book.save(record)

        if changed:
            self.announce()

    def _add_provisioned(self, change: int) -> None:
        with self._lock:
            self.set_provisioned(self.book.provisioned_users + change)

    def set_provisioned(self, users: int) -> None:
        with self._lock:
            self.book.provisioned_users = max(0, users)

        self.metrics.users.set(self.book.provisioned_users)

    def record_single(self, operation: str, result: Result) -> Result:
        self._counted(operation, result)

        with self._lock:
            self.book.save_index()

        self.announce()
        return result

    def _counted(self, operation: str, result: Result) -> None:
        self.metrics.operations.labels(operation, result.outcome.value).inc()

        if result.outcome is Outcome.REJECTED:
            log.warning(
                "Rejected extension %s: %s",
                result.extension,
                result.code,
                extra={"extension": result.extension, "reason_code": result.code},
            )

            with self._lock:
                self.book.rejected_total += 1


def _address_in_use(step: Step, result: Result | None) -> bool:
    """Whether the cloud refused ``step``'s write as its address was in use."""

    return (
        step.action in (Action.UPDATE, Action.CREATE)
        and result is not None
        and result.outcome is Outcome.REJECTED
        and result.code == "EMAIL_IN_USE"
    )


def _address_refused(record: SyncRecord) -> list[Step]:
    """The writes of ``record`` the cloud refused because the address was in use."""

    return [
        step
        for step in record.plan or []
        if _address_in_use(step, record.results.get(step.extension))
    ]
