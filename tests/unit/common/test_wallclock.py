"""The shared wall-clock arithmetic: a stable spread and weekly occurrences."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from services.common.wallclock import MINUTES_PER_DAY, next_wall_time, spread_minute

BERLIN = ZoneInfo("Europe/Berlin")


def test_a_spread_minute_stays_inside_its_window_and_wraps_past_midnight() -> None:
    minutes = {spread_minute(f"system-{n}", 23 * 60, 120) for n in range(500)}

    assert minutes <= set(range(23 * 60, MINUTES_PER_DAY)) | set(range(60))
    assert len(minutes) > 60


def test_a_key_keeps_its_minute() -> None:
    assert spread_minute("installation-a", 60, 240) == spread_minute(
        "installation-a", 60, 240
    )


@pytest.mark.parametrize("span", [0, -5, MINUTES_PER_DAY + 1])
def test_a_span_outside_one_day_is_refused(span: int) -> None:
    with pytest.raises(ValueError, match=f"not {span}"):
        spread_minute("x", 0, span)


def test_a_weekday_keeps_only_that_day_of_the_week() -> None:
    # 1 January 2025 was a Wednesday; the next Monday is the 6th.
    after = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)

    assert next_wall_time(after, 4, 0, BERLIN, weekday=1) == datetime(
        2025, 1, 6, 3, 0, tzinfo=UTC
    )
    assert next_wall_time(after, 4, 0, BERLIN) == datetime(2025, 1, 2, 3, 0, tzinfo=UTC)
