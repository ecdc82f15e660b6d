"""The updater's durable state and the record of past updates.

Plain data, read from and written to the updater's one state file, and
published (it holds no secret) as the retained ``cld/updater/state``.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from services.updater.schedule import Schedule, ScheduleError, default_schedule

# Enough for months of weekly updates; older entries add nothing the logs
# do not keep.
HISTORY_LENGTH = 20

# Outcomes, as history, metrics and the dashboard name them.
UPDATED = "updated"
UP_TO_DATE = "up to date"
ROLLED_BACK = "rolled back"
REFUSED = "refused"
FAILED = "failed"
UNREACHABLE = "unreachable"
OUTCOMES = (UPDATED, UP_TO_DATE, ROLLED_BACK, REFUSED, FAILED, UNREACHABLE)

# Progress of an update, as the dashboard shows it.
CHECKING = "checking"
DOWNLOADING = "downloading"
VERIFYING = "verifying"
APPLYING = "applying"
DONE = "done"


def iso(moment: datetime) -> str:
    """A UTC instant as the state file writes it."""

    return moment.astimezone(UTC).isoformat(timespec="seconds")


def parse_iso(text: str) -> datetime | None:
    """An instant from the state file; None when empty or unreadable."""

    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# Fields read by hand in ``UpdaterState.from_dict``; the rest are plain values.
_STRUCTURED = frozenset(
    {"installation_id", "schedule", "default_schedule", "switch", "history"}
)


@dataclass
class Record:
    """One finished update attempt."""

    at: str
    from_version: str
    to_version: str
    outcome: str
    reason: str = ""


@dataclass
class Switch:
    """A switch made and not yet confirmed healthy, kept across restarts."""

    from_release: str
    to_release: str
    from_version: str
    to_version: str
    switched_at: str
    deadline: str


@dataclass
class UpdaterState:
    """Everything the updater keeps."""

    installation_id: str
    schedule: Schedule
    default_schedule: bool = True
    paused: bool = False
    time_zone: str = ""
    last_check: str = ""
    next_check: str = ""
    last_update: str = ""
    available_version: str = ""
    available_build_number: str = ""
    progress: str = ""
    progress_detail: str = ""
    last_error: str = ""
    switch: Switch | None = None
    history: list[Record] = field(default_factory=list)

    @classmethod
    def fresh(cls) -> UpdaterState:
        """The state of a new installation: default schedule, not paused."""

        installation_id = str(uuid.uuid4())
        return cls(installation_id, default_schedule(installation_id))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UpdaterState:
        """The state from its stored form, with defaults for what is missing."""

        installation_id = str(data.get("installation_id") or uuid.uuid4())

        try:
            schedule = Schedule.from_dict(data["schedule"])
            chosen = not data.get("default_schedule", True)
        except (KeyError, TypeError, ScheduleError):
            schedule = default_schedule(installation_id)
            chosen = False

        switch = _switch(data.get("switch"))
        simple = {
            f.name: data[f.name]
            for f in fields(cls)
            if f.name in data and f.name not in _STRUCTURED
        }
        state = cls(installation_id, schedule, default_schedule=not chosen, **simple)
        state.switch = switch
        state.history = _records(data.get("history"))
        return state

    def as_dict(self) -> dict[str, Any]:
        """The state as stored and published."""

        document = asdict(self)
        document["schedule"] = self.schedule.as_dict()
        return document

    def add_record(self, record: Record) -> None:
        """Puts ``record`` first in the history, unless it repeats the last one.

        A refused release is offered again at every check; one entry says it.
        """

        if self.history:
            last = self.history[0]

            if (last.to_version, last.outcome, last.reason) == (
                record.to_version,
                record.outcome,
                record.reason,
            ):
                return

        self.history.insert(0, record)
        del self.history[HISTORY_LENGTH:]


def _switch(data: Any) -> Switch | None:
    try:
        return Switch(**data) if isinstance(data, dict) else None
    except TypeError:
        return None


def _records(data: Any) -> list[Record]:
    records: list[Record] = []

    for entry in data if isinstance(data, list) else []:
        try:
            records.append(Record(**entry))
        except TypeError:
            continue

    return records[:HISTORY_LENGTH]
