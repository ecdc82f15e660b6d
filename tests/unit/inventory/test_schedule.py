"""Schedule arithmetic: the daily time, debouncing, retry backoff."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.inventory.schedule import (
    MAX_DEBOUNCE_FACTOR,
    DailyPlan,
    add_trigger,
    daily_time,
    next_daily,
    parse_time_of_day,
    retry_delay,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NEW_YORK = ZoneInfo("America/New_York")
SYSTEM = "6f1c2a9e-3b7d-4e21-9c55-0d8e4f7a1b32"


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(
    zone: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


def test_a_time_of_day_is_hh_mm_and_empty_is_none() -> None:
    assert parse_time_of_day("03:00") == time(3, 0)
    assert parse_time_of_day(" 23:59 ") == time(23, 59)
    assert parse_time_of_day("") is None
    assert parse_time_of_day("  ") is None


@pytest.mark.parametrize("raw", ["3:00", "24:00", "12:60", "noon", "12:00:00"])
def test_a_malformed_time_of_day_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="expected HH:MM"):
        parse_time_of_day(raw)


def test_a_configured_daily_time_is_the_same_for_every_system() -> None:
    assert daily_time(SYSTEM, time(4, 30)) == time(4, 30)
    assert daily_time(str(uuid.uuid4()), time(4, 30)) == time(4, 30)


def test_the_spread_daily_time_is_stable_for_a_system() -> None:
    first = daily_time(SYSTEM, None)

    assert daily_time(SYSTEM, None) == first
    assert daily_time(str(uuid.uuid4()), None) != daily_time(str(uuid.uuid4()), None)


def test_the_spread_covers_the_whole_day_evenly() -> None:
    times = [daily_time(str(uuid.UUID(int=n)), None) for n in range(2400)]
    per_hour = Counter(t.hour for t in times)

    # Every hour gets about a 24th of the fleet: 100 each, give or take.
    assert sorted(per_hour) == list(range(24))
    assert all(60 <= count <= 140 for count in per_hour.values())


def test_the_daily_report_is_today_when_still_ahead_in_the_host_zone() -> None:
    now = local(STOCKHOLM, 2025, 6, 1, 2, 59)

    assert next_daily(now, time(3, 0), STOCKHOLM) == utc(2025, 6, 1, 1, 0)


def test_the_daily_report_is_tomorrow_once_passed_or_exactly_now() -> None:
    at = time(3, 0)

    assert next_daily(local(STOCKHOLM, 2025, 6, 1, 3, 0), at, STOCKHOLM) == local(
        STOCKHOLM, 2025, 6, 2, 3, 0
    )
    assert next_daily(utc(2025, 12, 31, 22, 0), at, STOCKHOLM) == utc(2026, 1, 1, 2, 0)


def test_the_day_is_the_host_zone_day_not_the_utc_day() -> None:
    # 23:30 UTC on 1 June is already 2 June in Stockholm, before 03:00 there.
    assert next_daily(utc(2025, 6, 1, 23, 30), time(3, 0), STOCKHOLM) == utc(
        2025, 6, 2, 1, 0
    )
    # 03:00 UTC on 2 June is still 1 June in New York, 23:00 there.
    assert next_daily(utc(2025, 6, 2, 3, 0), time(22, 0), NEW_YORK) == utc(
        2025, 6, 3, 2, 0
    )


def test_the_local_time_holds_when_clocks_go_forward() -> None:
    # Stockholm went from 02:00 to 03:00 on 30 March 2025 (UTC+1 to UTC+2).
    before = next_daily(local(STOCKHOLM, 2025, 3, 28, 12, 0), time(6, 15), STOCKHOLM)
    after = next_daily(before, time(6, 15), STOCKHOLM)

    assert before == utc(2025, 3, 29, 5, 15)
    assert after == utc(2025, 3, 30, 4, 15)
    assert after - before == timedelta(hours=23)
    assert after.astimezone(STOCKHOLM).strftime("%H:%M") == "06:15"


def test_a_time_skipped_by_summer_time_falls_just_after_the_gap_once() -> None:
    skipped = next_daily(local(STOCKHOLM, 2025, 3, 30, 0, 0), time(2, 30), STOCKHOLM)
    following = next_daily(skipped, time(2, 30), STOCKHOLM)

    assert skipped.astimezone(STOCKHOLM).strftime("%d %H:%M") == "30 03:30"
    assert following.astimezone(STOCKHOLM).strftime("%d %H:%M") == "31 02:30"


def test_the_local_time_holds_when_clocks_go_back() -> None:
    # New York went from 02:00 back to 01:00 on 2 November 2025 (UTC-4 to -5).
    before = next_daily(local(NEW_YORK, 2025, 10, 31, 12, 0), time(6, 15), NEW_YORK)
    after = next_daily(before, time(6, 15), NEW_YORK)

    assert before == utc(2025, 11, 1, 10, 15)
    assert after == utc(2025, 11, 2, 11, 15)
    assert after - before == timedelta(hours=25)


def test_a_time_shown_twice_when_clocks_go_back_is_sent_once() -> None:
    first = next_daily(local(NEW_YORK, 2025, 11, 2, 0, 0), time(1, 30), NEW_YORK)
    following = next_daily(first, time(1, 30), NEW_YORK)

    assert first == utc(2025, 11, 2, 5, 30)
    assert following == utc(2025, 11, 3, 6, 30)


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        next_daily(datetime(2025, 6, 1, 12, 0), time(3, 0), STOCKHOLM)


def test_retries_back_off_exponentially_up_to_the_cap() -> None:
    assert [retry_delay(n, 60) for n in range(8)] == [
        0.0,
        1.0,
        2.0,
        4.0,
        8.0,
        16.0,
        32.0,
        60.0,
    ]
    assert retry_delay(10_000, 300) == 300


def test_a_burst_of_triggers_is_one_report_after_the_quiet() -> None:
    pending = add_trigger(None, "change", now=100.0, debounce=5.0)
    pending = add_trigger(pending, "change", now=102.0, debounce=5.0)
    pending = add_trigger(pending, "change", now=104.0, debounce=5.0)

    assert pending.due_at == 109.0
    assert pending.first_at == 100.0
    assert pending.reason == "change"


def test_endless_triggers_still_let_a_report_out() -> None:
    pending = None

    for second in range(100):
        pending = add_trigger(pending, "change", now=float(second), debounce=5.0)

    assert pending is not None
    assert pending.due_at == MAX_DEBOUNCE_FACTOR * 5.0


def test_merged_triggers_keep_the_weightier_reason_and_an_immediate_one_is_due() -> (
    None
):
    pending = add_trigger(None, "change", now=10.0, debounce=5.0)
    pending = add_trigger(pending, "link", now=11.0, debounce=5.0)

    assert pending.reason == "link"

    pending = add_trigger(pending, "daily", now=12.0, debounce=5.0, immediate=True)

    assert pending.reason == "link"
    assert pending.due_at == 12.0


def test_a_daily_plan_follows_the_link_and_the_zone() -> None:
    plan = DailyPlan(time(4, 30), "Europe/Stockholm")
    now = utc(2025, 6, 1, 12, 0)

    assert plan.plan(now) is None

    plan.system_id = SYSTEM
    assert plan.plan(now) == utc(2025, 6, 2, 2, 30)

    plan.zone = "America/New_York"
    assert plan.plan(now) == utc(2025, 6, 2, 8, 30)
    assert plan.describe() == "04:30 America/New_York"

    plan.system_id = ""
    assert plan.plan(now) is None
    assert plan.due is None
