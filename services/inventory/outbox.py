"""Reports waiting for delivery, one file each, so none is lost to a restart.

A report is written to the outbox before any attempt to send it and removed
only once the cloud has stored it. One the cloud rejects as invalid moves to
``rejected/`` beside the error, and one made for a system this host is no
longer linked as moves to ``superseded/`` beside the reason; either stays
there until someone looks at it.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from services.common.state import StateStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Entry:
    """One queued report and its delivery attempts so far."""

    report_id: str
    system_id: str
    reason: str
    created_at: str
    body: bytes
    attempts: int
    path: Path

    def document(self) -> dict[str, Any]:
        """The entry as stored; the body is kept as its exact text."""

        return {
            "reportId": self.report_id,
            "systemId": self.system_id,
            "reason": self.reason,
            "createdAt": self.created_at,
            "attempts": self.attempts,
            "body": self.body.decode(),
        }


class Outbox:
    """The folder of undelivered reports, oldest first."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.rejected_folder = folder / "rejected"
        self.superseded_folder = folder / "superseded"
        self._lock = threading.Lock()
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)

    def add(
        self, report_id: str, system_id: str, reason: str, created_at: str, body: bytes
    ) -> Entry:
        """Queues a report durably; returns its entry."""

        with self._lock:
            # Nanoseconds since the epoch order entries by age across restarts.
            path = self.folder / f"{time.time_ns():020d}-{report_id}.json"
            entry = Entry(report_id, system_id, reason, created_at, body, 0, path)
            StateStore(path).save(entry.document())

        return entry

    def entries(self) -> list[Entry]:
        """Every queued report, oldest first; unreadable files are set aside."""

        found = []

        with self._lock:
            for path in sorted(self.folder.glob("*.json")):
                entry = _read(path)

                if entry is not None:
                    found.append(entry)

        return found

    def oldest(self) -> Entry | None:
        """The report to send next."""

        entries = self.entries()
        return entries[0] if entries else None

    def depth(self) -> int:
        """How many reports wait for delivery."""

        return sum(1 for _ in self.folder.glob("*.json"))

    def rejected_count(self) -> int:
        """How many reports the cloud rejected and were kept aside."""

        return _count(self.rejected_folder)

    def superseded_count(self) -> int:
        """How many reports were kept aside because the system was relinked."""

        return _count(self.superseded_folder)

    def contains(self, report_id: str) -> bool:
        """Whether report ``report_id`` still waits."""

        return any(self.folder.glob(f"*-{report_id}.json"))

    def delivered(self, entry: Entry) -> None:
        """Forgets a report the cloud has stored."""

        with self._lock:
            StateStore(entry.path).delete()

    def attempted(self, entry: Entry) -> Entry:
        """Records one more failed attempt at ``entry``."""

        updated = replace(entry, attempts=entry.attempts + 1)

        with self._lock:
            if entry.path.exists():
                StateStore(entry.path).save(updated.document())

        return updated

    def reject(self, entry: Entry, error: str) -> Path:
        """Moves a report the cloud refused aside, with the cloud's error."""

        return self._set_aside(entry, self.rejected_folder, {"error": error})

    def supersede(self, entry: Entry, why: str) -> Path:
        """Moves a report that must not be sent any more aside, saying why."""

        return self._set_aside(entry, self.superseded_folder, {"superseded": why})

    def _set_aside(self, entry: Entry, folder: Path, note: dict[str, str]) -> Path:
        aside = folder / entry.path.name
        document = {**entry.document(), **note}

        with self._lock:
            StateStore(aside).save(document)
            StateStore(entry.path).delete()

        return aside


def _count(folder: Path) -> int:
    if not folder.is_dir():
        return 0

    return sum(1 for _ in folder.glob("*.json"))


def _read(path: Path) -> Entry | None:
    store = StateStore(path)
    document = store.load()

    if document is None:
        return None

    try:
        return Entry(
            report_id=str(document["reportId"]),
            system_id=str(document["systemId"]),
            reason=str(document["reason"]),
            created_at=str(document["createdAt"]),
            body=str(document["body"]).encode(),
            attempts=int(document.get("attempts", 0)),
            path=path,
        )
    except (KeyError, TypeError, ValueError) as exc:
        aside = path.with_name(f"{path.name}.unusable")
        path.replace(aside)
        log.error(
            "Outbox entry %s lacks %s; kept aside as %s", path.name, exc, aside.name
        )
        return None
