"""When reports are due: the daily time, debounced triggers, retry backoff.

Plain arithmetic on times handed in, so it is tested without a clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from services.inventory.report import stronger

# A steady stream of changes must still produce a report now and then.
MAX_DEBOUNCE_FACTOR = 6

FIRST_RETRY = 1.0

_HH_MM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


def parse_time_of_day(raw: str) -> time:
    """``HH:MM`` as a UTC time of day; ValueError when malformed."""

    found = _HH_MM.fullmatch(raw.strip())

    if found is None:
        raise ValueError("expected HH:MM, from 00:00 to 23:59")

    return time(int(found.group(1)), int(found.group(2)), tzinfo=UTC)


def next_daily(now: datetime, at: time) -> datetime:
    """The first moment strictly after ``now`` that is ``at`` o'clock (UTC)."""

    today = datetime.combine(now.astimezone(UTC).date(), at)
    return today if today > now else today + timedelta(days=1)


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
