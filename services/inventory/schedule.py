"""When reports are due: the daily time, debounced triggers, retry backoff.

Plain arithmetic on times handed in, so it is tested without a clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from services.common.wallclock import MINUTES_PER_DAY, next_wall_time, spread_minute
from services.inventory.report import stronger

# A steady stream of changes must still produce a report now and then.
MAX_DEBOUNCE_FACTOR = 6

FIRST_RETRY = 1.0

_HH_MM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


def parse_time_of_day(raw: str) -> time | None:
    """``HH:MM`` as a time of day, None when empty; ValueError when malformed."""

    if not raw.strip():
        return None

    found = _HH_MM.fullmatch(raw.strip())

    if found is None:
        raise ValueError("expected HH:MM, from 00:00 to 23:59, or nothing")

    return time(int(found.group(1)), int(found.group(2)))


def daily_time(system_id: str, configured: time | None) -> time:
    """The local time of a system's daily report.

    Without a configured time, systems are spread over the whole day by
    their system id, so a fleet does not report in the same minute and one
    system keeps its minute for as long as it keeps its link.
    """

    if configured is not None:
        return configured

    minutes = spread_minute(system_id, 0, MINUTES_PER_DAY)
    return time(minutes // 60, minutes % 60)


def next_daily(now: datetime, at: time, zone: ZoneInfo) -> datetime:
    """The first moment strictly after ``now`` when ``zone``'s clocks show ``at``.

    In UTC; a time skipped by a change to summer time falls just after the
    gap, and a time shown twice when clocks go back is sent at its first
    showing only.
    """

    return next_wall_time(now, at.hour, at.minute, zone)


@dataclass
class DailyPlan:
    """The linked system's next daily report, planned again as link or zone change.

    ``zone`` is an IANA name the zone database knows; ``system_id`` is empty
    while the system is not linked, and then no report is due.
    """

    configured: time | None
    zone: str
    system_id: str = ""
    due: datetime | None = None

    def plan(self, now: datetime) -> datetime | None:
        """Sets and returns the first daily report after ``now``."""

        if not self.system_id:
            self.due = None
            return None

        at = daily_time(self.system_id, self.configured)
        self.due = next_daily(now, at, ZoneInfo(self.zone))
        return self.due

    def describe(self) -> str:
        """The local time and zone, as a log line says them."""

        at = daily_time(self.system_id, self.configured)
        return f"{at:%H:%M} {self.zone}"


def retry_delay(failures: int, cap: float) -> float:
    """Seconds to wait after ``failures`` consecutive failed deliveries."""

    if failures <= 0:
        return 0.0

    return float(min(cap, FIRST_RETRY * 2 ** min(failures - 1, 30)))


@dataclass(frozen=True)
class Pending:
    """A report that has been asked for but not built yet."""

    reason: str
    first_at: float
    due_at: float


def add_trigger(
    pending: Pending | None,
    reason: str,
    now: float,
    debounce: float,
    immediate: bool = False,
) -> Pending:
    """``pending`` with one more trigger; a burst is one report.

    Each trigger pushes the report back to ``debounce`` seconds of quiet,
    but never past ``MAX_DEBOUNCE_FACTOR`` windows after the first one, and
    an immediate trigger makes it due now.
    """

    if pending is None:
        first_at, merged = now, reason
    else:
        first_at, merged = pending.first_at, stronger(reason, pending.reason)

    due = min(now + debounce, first_at + MAX_DEBOUNCE_FACTOR * debounce)

    if immediate:
        due = now

    return Pending(merged, first_at, due)
