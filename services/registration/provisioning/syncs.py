"""The latest few syncs on disk: each one's list, plan and per-user results.

A sync is a folder-level pair of files: ``<id>.json`` (PM's list and the
sync's state, written atomically) and ``<id>.journal`` (its plan, then one
line per user result). ``index.json`` orders the syncs and holds the
service-wide totals. Whatever the journal lost in a crash is redone on
resume, and every write is one the cloud can take twice.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.common.state import StateStore
from services.registration.provisioning.journal import Journal, read_journal
from services.registration.provisioning.plan import (
    Action,
    Counts,
    Outcome,
    Result,
    Step,
    count,
    settled_result,
)
from services.registration.provisioning.users import PmUser

log = logging.getLogger(__name__)

KEPT = 5


class SyncState:
    """The states a sync goes through, as stored."""

    RUNNING = "running"
    WAITING = "waiting"
    DONE = "done"
    SUPERSEDED = "superseded"


def now_iso() -> str:
    """The current UTC time as stored."""

    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass
class SyncRecord:
    """One sync: PM's list, where it stands and what it did so far."""

    sync_id: str
    started_at: str
    users: list[PmUser]
    state: str = SyncState.RUNNING
    finished_at: str = ""
    problem: str = ""
    plan: list[Step] | None = None
    results: dict[str, Result] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        """Whether the sync has nothing more to do."""

        return self.state in (SyncState.DONE, SyncState.SUPERSEDED)

    def steps_to_apply(self) -> list[Step]:
        """The planned writes without a result yet."""

        return [
            step
            for step in self.plan or []
            if step.action in (Action.CREATE, Action.UPDATE, Action.REMOVE)
            and step.extension not in self.results
        ]

    def counts(self) -> Counts:
        """Each outcome's count; users without a result are pending."""

        if self.plan is None:
            return Counts(pending=len(self.users))

        # Every result belongs to a step of the plan; the status is read
        # often while a sync runs, so the steps are not walked one by one.
        counts = count(result.outcome for result in list(self.results.values()))
        counts.pending = len(self.plan) - sum(
            getattr(counts, o.value) for o in Outcome if o is not Outcome.PENDING
        )
        return counts

    def ordered_results(self) -> list[Result]:
        """A result for every user of the sync, in PM's order, removals last."""

        if self.plan is None:
            return [Result(u.extension, Outcome.PENDING) for u in self.users]

        found = [
            self.results.get(step.extension)
            or Result(step.extension, Outcome.PENDING, step.user_id)
            for step in self.plan
        ]
        order = {u.extension: i for i, u in enumerate(self.users)}
        return sorted(found, key=lambda r: order.get(r.extension, len(order)))

    def meta(self) -> dict[str, Any]:
        """The stored form of everything but the journal."""

        return {
            "syncId": self.sync_id,
            "startedAt": self.started_at,
            "state": self.state,
            "finishedAt": self.finished_at,
            "problem": self.problem,
            "users": [u.as_dict() for u in self.users],
        }


class SyncBook:
    """The kept syncs, their journals and the service-wide totals."""

    def __init__(self, folder: Path, kept: int = KEPT) -> None:
        self.folder = folder
        self.kept = kept
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._index = StateStore(folder / "index.json")
        index = self._index.load() or {}
        self.rejected_total = int(index.get("rejectedTotal", 0))
        self.provisioned_users = int(index.get("provisionedUsers", 0))
        self.last_completed = str(index.get("lastCompleted", ""))
        self.syncs: dict[str, SyncRecord] = {}
        self._journals: dict[str, Journal] = {}

        for sync_id in index.get("syncs", []):
            record = self._load(str(sync_id))

            if record is not None:
                self.syncs[record.sync_id] = record

    def current(self) -> SyncRecord | None:
        """The newest sync when it is not finished."""

        newest = next(reversed(self.syncs.values()), None)
        return newest if newest and not newest.finished else None

    def start(self, users: list[PmUser]) -> SyncRecord:
        """A new sync of ``users``, on disk before this returns."""

        record = SyncRecord(str(uuid.uuid4()), now_iso(), users)
        self._meta(record).save(record.meta())
        self.syncs[record.sync_id] = record
        self._prune()
        self.save_index()
        return record

    def save(self, record: SyncRecord) -> None:
        """Stores the sync's state (not its journal)."""

        self._meta(record).save(record.meta())

    def record_plan(self, record: SyncRecord, plan: list[Step]) -> None:
        """Journals the plan and the results it settles without writing."""

        journal = self.journal(record)
        journal.append({"plan": [step.as_dict() for step in plan]})
        record.plan = plan

        for step in plan:
            settled = settled_result(step)

            if settled is not None:
                record.results[step.extension] = settled

        journal.flush()

    def record_result(self, record: SyncRecord, result: Result) -> None:
        """Journals one user's result."""

        self.journal(record).append(
            {
                "extension": result.extension,
                "outcome": result.outcome.value,
                "userId": result.user_id,
                "code": result.code,
                "reason": result.reason,
            }
        )
        record.results[result.extension] = result

    def journal(self, record: SyncRecord) -> Journal:
        """The open journal of ``record``."""

        journal = self._journals.get(record.sync_id)

        if journal is None:
            journal = Journal(self.folder / f"{record.sync_id}.journal")
            self._journals[record.sync_id] = journal

        return journal

    def close_journal(self, record: SyncRecord) -> None:
        """Flushes and closes the journal of a sync that is over."""

        journal = self._journals.pop(record.sync_id, None)

        if journal is not None:
            journal.close()

    def save_index(self) -> None:
        """Stores the order of the syncs and the totals."""

        self._index.save(
            {
                "syncs": list(self.syncs),
                "rejectedTotal": self.rejected_total,
                "provisionedUsers": self.provisioned_users,
                "lastCompleted": self.last_completed,
            }
        )

    def close(self) -> None:
        """Flushes every open journal."""

        for record_id in list(self._journals):
            self._journals.pop(record_id).close()

    def _meta(self, record: SyncRecord) -> StateStore:
        return StateStore(self.folder / f"{record.sync_id}.json")

    def _prune(self) -> None:
        while len(self.syncs) > self.kept:
            oldest = next(iter(self.syncs.values()))

            if not oldest.finished:
                break

            del self.syncs[oldest.sync_id]
            self.close_journal(oldest)
            (self.folder / f"{oldest.sync_id}.journal").unlink(missing_ok=True)
            self._meta(oldest).delete()

    def _load(self, sync_id: str) -> SyncRecord | None:
        store = StateStore(self.folder / f"{sync_id}.json")
        meta = store.load()

        if meta is None:
            log.warning("Sync %s is listed but its file is gone", sync_id)
            return None

        try:
            record = SyncRecord(
                sync_id=str(meta["syncId"]),
                started_at=str(meta["startedAt"]),
                users=[PmUser.from_dict(u) for u in meta["users"]],
                state=str(meta["state"]),
                finished_at=str(meta.get("finishedAt", "")),
                problem=str(meta.get("problem", "")),
            )

            for entry in read_journal(self.folder / f"{sync_id}.journal"):
                _replay(record, entry)
        except (KeyError, TypeError, ValueError) as exc:
            log.error("Sync %s cannot be read (%s); it is dropped", sync_id, exc)
            return None

        return record


def _replay(record: SyncRecord, entry: dict[str, Any]) -> None:
    if "plan" in entry:
        record.plan = [Step.from_dict(step) for step in entry["plan"]]

        for step in record.plan:
            settled = settled_result(step)

            if settled is not None:
                record.results[step.extension] = settled

        return

    result = Result(
        extension=str(entry["extension"]),
        outcome=Outcome(entry["outcome"]),
        user_id=str(entry.get("userId", "")),
        code=str(entry.get("code", "")),
        reason=str(entry.get("reason", "")),
    )
    record.results[result.extension] = result
