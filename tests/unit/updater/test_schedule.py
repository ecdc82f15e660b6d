"""Schedule arithmetic: daily and weekly runs, DST both ways, zone changes."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.updater.schedule import (
    DAILY,
    DEFAULT_WINDOW_MINUTES,
    DEFAULT_WINDOW_START,
    WEEKLY,
    Schedule,
    ScheduleError,
    default_schedule,
    next_run,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
SYDNEY = ZoneInfo("Australia/Sydney")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone)


def runs(schedule: Schedule, start: datetime, zone: ZoneInfo, count: int) -> list:
    found = []
    moment = start

    for _ in range(count):
        moment = next_run(schedule, moment, zone)
        found.append(moment)

    return found


def test_daily_runs_later_the_same_day() -> None:
    schedule = Schedule(DAILY, hour=3, minute=15)

    run = next_run(schedule, local(BERLIN, 2025, 1, 10, 1, 0), BERLIN)

    assert run == local(BERLIN, 2025, 1, 10, 3, 15)
    assert run.tzinfo is UTC


def test_daily_runs_tomorrow_once_today_has_passed() -> None:
    schedule = Schedule(DAILY, hour=3, minute=15)

    assert next_run(schedule, local(BERLIN, 2025, 1, 10, 3, 15), BERLIN) == local(
        BERLIN, 2025, 1, 11, 3, 15
    )
    assert next_run(schedule, local(BERLIN, 2025, 1, 10, 23, 59), BERLIN) == local(
        BERLIN, 2025, 1, 11, 3, 15
    )


def test_the_result_is_strictly_after_the_given_moment() -> None:
    schedule = Schedule(DAILY, hour=0, minute=0)
    midnight = local(BERLIN, 2025, 6, 1, 0, 0)

    assert next_run(schedule, midnight, BERLIN) == midnight + timedelta(days=1)
    assert next_run(schedule, midnight - timedelta(seconds=1), BERLIN) == midnight


def test_weekly_runs_on_its_weekday() -> None:
    # 2025-01-10 is a Friday.
    schedule = Schedule(WEEKLY, hour=4, minute=30, weekday=2)

    run = next_run(schedule, local(BERLIN, 2025, 1, 10, 12, 0), BERLIN)

    assert run == local(BERLIN, 2025, 1, 14, 4, 30)
    assert run.astimezone(BERLIN).isoweekday() == 2


def test_weekly_on_today_before_and_after_the_time() -> None:
    schedule = Schedule(WEEKLY, hour=4, minute=30, weekday=5)

    assert next_run(schedule, local(BERLIN, 2025, 1, 10, 4, 0), BERLIN) == local(
        BERLIN, 2025, 1, 10, 4, 30
    )
    assert next_run(schedule, local(BERLIN, 2025, 1, 10, 5, 0), BERLIN) == local(
        BERLIN, 2025, 1, 17, 4, 30
    )


def test_weekly_sunday_from_monday_is_six_days_on() -> None:
    schedule = Schedule(WEEKLY, hour=23, minute=59, weekday=7)

    run = next_run(schedule, local(NEW_YORK, 2025, 1, 6, 0, 1), NEW_YORK)

    assert run == local(NEW_YORK, 2025, 1, 12, 23, 59)


def test_spring_forward_a_skipped_time_runs_after_the_gap() -> None:
    # Berlin, 2025-03-30: clocks jump from 02:00 to 03:00.
    schedule = Schedule(DAILY, hour=2, minute=30)

    run = next_run(schedule, local(BERLIN, 2025, 3, 30, 0, 0), BERLIN)

    assert run == utc(2025, 3, 30, 1, 30)
    assert run.astimezone(BERLIN).strftime("%H:%M") == "03:30"
    # The next day is back at 02:30, now in summer time.
    assert next_run(schedule, run, BERLIN) == utc(2025, 3, 31, 0, 30)


def test_spring_forward_times_outside_the_gap_keep_their_wall_time() -> None:
    schedule = Schedule(DAILY, hour=3, minute=0)

    before, on_the_day, after = runs(
        schedule, local(BERLIN, 2025, 3, 28, 12, 0), BERLIN, 3
    )

    assert [
        r.astimezone(BERLIN).strftime("%d %H:%M") for r in (before, on_the_day, after)
    ] == [
        "29 03:00",
        "30 03:00",
        "31 03:00",
    ]
    # The night clocks go forward is an hour shorter.
    assert on_the_day - before == timedelta(hours=23)
    assert after - on_the_day == timedelta(hours=24)


def test_fall_back_a_repeated_time_runs_once_at_its_first_showing() -> None:
    # Berlin, 2025-10-26: clocks go back from 03:00 to 02:00; 02:30 is shown twice.
    schedule = Schedule(DAILY, hour=2, minute=30)

    first = next_run(schedule, local(BERLIN, 2025, 10, 26, 0, 0), BERLIN)
    following = next_run(schedule, first, BERLIN)

    assert first == utc(2025, 10, 26, 0, 30)
    assert following == utc(2025, 10, 27, 1, 30)
    # Asked between the two showings, it does not run a second time that day.
    assert next_run(schedule, utc(2025, 10, 26, 1, 0), BERLIN) == following


def test_fall_back_night_is_an_hour_longer() -> None:
    schedule = Schedule(DAILY, hour=4, minute=0)

    before, after = runs(schedule, local(NEW_YORK, 2025, 10, 31, 12, 0), NEW_YORK, 2)

    assert after - before == timedelta(hours=25)
    assert after.astimezone(NEW_YORK).strftime("%H:%M") == "04:00"


def test_new_york_spring_forward_gap() -> None:
    # 2025-03-09: 02:00 becomes 03:00.
    schedule = Schedule(WEEKLY, hour=2, minute=15, weekday=7)

    run = next_run(schedule, local(NEW_YORK, 2025, 3, 8, 12, 0), NEW_YORK)

    assert run == utc(2025, 3, 9, 7, 15)
    assert run.astimezone(NEW_YORK).strftime("%a %H:%M") == "Sun 03:15"


def test_southern_hemisphere_changes_the_other_way_round() -> None:
    # Sydney leaves summer time on 2025-04-06 (03:00 -> 02:00) and starts it
    # on 2025-10-05 (02:00 -> 03:00).
    schedule = Schedule(DAILY, hour=2, minute=30)

    autumn = next_run(schedule, local(SYDNEY, 2025, 4, 6, 0, 0), SYDNEY)
    spring = next_run(schedule, local(SYDNEY, 2025, 10, 5, 0, 0), SYDNEY)

    assert autumn == utc(2025, 4, 5, 15, 30)
    assert spring.astimezone(SYDNEY).strftime("%H:%M") == "03:30"


def test_half_hour_daylight_saving() -> None:
    # Lord Howe Island moves its clocks by 30 minutes: 02:00 -> 02:30.
    schedule = Schedule(DAILY, hour=2, minute=10)

    run = next_run(schedule, local(LORD_HOWE, 2025, 10, 5, 0, 0), LORD_HOWE)

    assert run.astimezone(LORD_HOWE).strftime("%H:%M") == "02:40"


def test_a_zone_change_moves_the_next_run_to_the_new_wall_time() -> None:
    schedule = Schedule(DAILY, hour=3, minute=0)
    now = utc(2025, 1, 10, 12, 0)

    in_berlin = next_run(schedule, now, BERLIN)
    in_new_york = next_run(schedule, now, NEW_YORK)

    assert in_berlin == utc(2025, 1, 11, 2, 0)
    assert in_new_york == utc(2025, 1, 11, 8, 0)


def test_a_zone_change_across_the_date_line_keeps_the_weekday_local() -> None:
    schedule = Schedule(WEEKLY, hour=1, minute=0, weekday=1)
    now = utc(2025, 1, 12, 13, 0)  # Sunday afternoon in UTC, Monday in Auckland

    auckland = ZoneInfo("Pacific/Auckland")
    run = next_run(schedule, now, auckland)

    assert run.astimezone(auckland).strftime("%a %H:%M") == "Mon 01:00"
    assert run > now


def test_every_run_is_the_first_matching_minute() -> None:
    # Walking minute by minute is slow but obviously right; it checks the
    # arithmetic across whole years in zones with and without daylight saving.
    rng = random.Random(7)
    zones = [BERLIN, NEW_YORK, SYDNEY, ZoneInfo("Asia/Kolkata"), ZoneInfo("UTC")]

    for _ in range(40):
        zone = rng.choice(zones)
        weekly = rng.random() < 0.5
        schedule = Schedule(
            WEEKLY if weekly else DAILY,
            hour=rng.randrange(24),
            minute=rng.randrange(60),
            weekday=rng.randint(1, 7) if weekly else 0,
        )
        after = utc(2025, 1, 1) + timedelta(minutes=rng.randrange(365 * 24 * 60))
        run = next_run(schedule, after, zone)

        assert run > after
        assert run - after <= timedelta(days=7, hours=1)
        seen = run.astimezone(zone)

        if (seen.hour, seen.minute) == (schedule.hour, schedule.minute):
            probe = after.replace(second=0, microsecond=0) + timedelta(minutes=1)

            while probe < run:
                shown = probe.astimezone(zone)
                matches = (shown.hour, shown.minute) == (schedule.hour, schedule.minute)
                day_ok = not weekly or shown.isoweekday() == schedule.weekday
                assert not (matches and day_ok and shown.fold == 0), (schedule, after)
                probe += timedelta(minutes=1)


def test_naive_moments_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        next_run(Schedule(DAILY, 1, 0), datetime(2025, 1, 1), BERLIN)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"recurrence": "hourly", "hour": 1, "minute": 0}, "recurrence"),
        ({"recurrence": DAILY, "hour": 24, "minute": 0}, "hour must be 0 to 23"),
        ({"recurrence": DAILY, "hour": -1, "minute": 0}, "hour"),
        ({"recurrence": DAILY, "hour": 1, "minute": 60}, "minute must be 0 to 59"),
        ({"recurrence": WEEKLY, "hour": 1, "minute": 0}, "weekday must be 1"),
        ({"recurrence": WEEKLY, "hour": 1, "minute": 0, "weekday": 8}, "weekday"),
    ],
)
def test_bad_schedules_name_the_field(fields: dict, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        Schedule(**fields)


def test_a_daily_schedule_has_no_weekday() -> None:
    assert Schedule(DAILY, 1, 0, weekday=3) == Schedule(DAILY, 1, 0)


def test_schedules_round_trip_and_read_clearly() -> None:
    weekly = Schedule(WEEKLY, hour=4, minute=5, weekday=3)

    assert Schedule.from_dict(weekly.as_dict()) == weekly
    assert weekly.describe() == "every week on Wednesday at 04:05"
    assert Schedule(DAILY, 23, 0).describe() == "every day at 23:00"

    with pytest.raises(ScheduleError, match="not a schedule"):
        Schedule.from_dict({"recurrence": DAILY})


def test_the_default_is_daily_in_the_night_window_and_stable() -> None:
    first = default_schedule("0f9c2a52-0000-4000-8000-000000000001")

    assert first == default_schedule("0f9c2a52-0000-4000-8000-000000000001")
    assert first.recurrence == DAILY
    minutes = first.hour * 60 + first.minute
    assert (
        DEFAULT_WINDOW_START <= minutes < DEFAULT_WINDOW_START + DEFAULT_WINDOW_MINUTES
    )


def test_the_default_spreads_a_fleet_over_the_window() -> None:
    times = [default_schedule(f"system-{n}") for n in range(2000)]
    minutes = [t.hour * 60 + t.minute for t in times]
    per_hour = [sum(1 for m in minutes if m // 60 == h) for h in (1, 2, 3, 4)]

    assert len(set(minutes)) > 200
    # Evenly spread: each hour of the window gets about a quarter.
    assert all(400 <= count <= 600 for count in per_hour), per_hour
