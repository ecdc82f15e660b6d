"""Wall-clock times in a time zone: a fleet's spread, and the next occurrence.

Arithmetic on values passed in, with no clock and no files, so
daylight-saving changes are tested directly.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 24 * 60


def spread_minute(key: str, start: int, span: int) -> int:
    """A minute of the day in ``[start, start + span)`` chosen by a hash of ``key``.

    The hash is stable, so one key always gets the same minute, across
    restarts and versions, and many keys fall evenly over the span.
    """

    if not 0 < span <= MINUTES_PER_DAY:
        raise ValueError(f"span must be 1 to {MINUTES_PER_DAY} minutes, not {span}")

    digest = hashlib.sha256(key.encode()).digest()
    offset = int.from_bytes(digest[:8], "big") % span
    return (start + offset) % MINUTES_PER_DAY


def wall_time_instant(day: date, hour: int, minute: int, zone: ZoneInfo) -> datetime:
    """The UTC instant the clocks of ``zone`` show hour:minute on ``day``.

    A time skipped when clocks go forward is read with the offset before the
    change, so it lands as far after the gap as it was into it (02:30 on a
    02:00 to 03:00 night is 03:30). A time shown twice when clocks go back
    is its first showing.
    """

    local = datetime.combine(day, time(hour, minute), tzinfo=zone)
    return local.replace(fold=0).astimezone(UTC)


def next_wall_time(
    after: datetime, hour: int, minute: int, zone: ZoneInfo, weekday: int = 0
) -> datetime:
    """The first hour:minute in ``zone`` strictly after ``after``, in UTC.

    With ``weekday`` (ISO, 1 = Monday) only that day of the week counts.
    Occurrences are found per local calendar day, so a day has at most one
    whatever its length, and a zone change takes effect by passing the new
    zone.
    """

    if after.tzinfo is None:
        raise ValueError("after must be an aware datetime")

    start = after.astimezone(zone).date() - timedelta(days=1)

    # Eight days after yesterday always hold a weekly occurrence after ``after``.
    for offset in range(9):
        day = start + timedelta(days=offset)

        if weekday and day.isoweekday() != weekday:
            continue

        instant = wall_time_instant(day, hour, minute, zone)

        if instant > after:
            return instant

    raise AssertionError("a wall-clock time always recurs within nine days")
