"""When updates run: daily or weekly at a wall-clock time in the host's zone.

Everything here is arithmetic on values passed in, with no clock and no
files, so daylight-saving changes and zone changes are tested directly.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from services.common.wallclock import next_wall_time, spread_minute

DAILY = "daily"
WEEKLY = "weekly"
RECURRENCES = (DAILY, WEEKLY)

WEEKDAYS = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)

# Default updates fall in the small hours, when a phone system is quietest,
# spread over this window so a fleet does not update in the same minute.
DEFAULT_WINDOW_START = 60
DEFAULT_WINDOW_MINUTES = 4 * 60


class ScheduleError(ValueError):
    """A schedule that cannot be used, with the field that is wrong."""


@dataclass(frozen=True)
class Schedule:
    """Daily, or weekly on an ISO weekday (1 = Monday), at hour:minute."""

    recurrence: str
    hour: int
    minute: int
    weekday: int = 0

    def __post_init__(self) -> None:
        if self.recurrence not in RECURRENCES:
            raise ScheduleError(
                f"recurrence must be daily or weekly, not {self.recurrence!r}"
            )

        if not 0 <= self.hour <= 23:
            raise ScheduleError(f"hour must be 0 to 23, not {self.hour}")

        if not 0 <= self.minute <= 59:
            raise ScheduleError(f"minute must be 0 to 59, not {self.minute}")

        if self.recurrence == WEEKLY and not 1 <= self.weekday <= 7:
            raise ScheduleError(
                f"weekday must be 1 (Monday) to 7 (Sunday) for a weekly schedule, "
                f"not {self.weekday}"
            )

        # A daily schedule has no weekday; keeping one would make two equal
        # schedules compare different.
        if self.recurrence == DAILY and self.weekday:
            object.__setattr__(self, "weekday", 0)

    def describe(self) -> str:
        """The schedule as the dashboard words it."""

        at = f"{self.hour:02d}:{self.minute:02d}"

        if self.recurrence == DAILY:
            return f"every day at {at}"

        return f"every week on {WEEKDAYS[self.weekday - 1]} at {at}"

    def as_dict(self) -> dict[str, Any]:
        """The schedule as stored."""

        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Schedule:
        """A schedule from its stored form; ScheduleError when it is not one."""

        try:
            return cls(
                recurrence=str(data["recurrence"]),
                hour=int(data["hour"]),
                minute=int(data["minute"]),
                weekday=int(data.get("weekday", 0)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, ScheduleError):
                raise

            raise ScheduleError(f"not a schedule: {data!r}") from None


def default_schedule(installation_id: str) -> Schedule:
    """Daily at a time in the night window chosen by a hash of the installation.

    The hash is stable, so a system keeps its time across restarts and
    re-installs of the same state, and spreads a fleet evenly.
    """

    minutes = spread_minute(
        installation_id, DEFAULT_WINDOW_START, DEFAULT_WINDOW_MINUTES
    )
    return Schedule(DAILY, hour=minutes // 60, minute=minutes % 60)


def next_run(schedule: Schedule, after: datetime, zone: ZoneInfo) -> datetime:
    """The first run of ``schedule`` strictly after ``after``, in UTC.

    Runs are found per local calendar day, so a day has at most one run
    whatever its length, and a zone change takes effect by passing the new
    zone.
    """

    weekday = schedule.weekday if schedule.recurrence == WEEKLY else 0
    return next_wall_time(after, schedule.hour, schedule.minute, zone, weekday)
