"""Schedule arithmetic: the daily time, debouncing, retry backoff."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from services.inventory.schedule import (
    MAX_DEBOUNCE_FACTOR,
    add_trigger,
    next_daily,
    parse_time_of_day,
    retry_delay,
)


def test_a_time_of_day_is_hh_mm() -> None:
    assert parse_time_of_day("03:00") == time(3, 0, tzinfo=UTC)
    assert parse_time_of_day(" 23:59 ") == time(23, 59, tzinfo=UTC)


@pytest.mark.parametrize("raw", ["3:00", "24:00", "12:60", "noon", "", "12:00:00"])
def test_a_malformed_time_of_day_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="expected HH:MM"):
        parse_time_of_day(raw)


def test_the_daily_report_is_today_when_still_ahead() -> None:
    at = parse_time_of_day("03:00")
    now = datetime(2025, 6, 1, 2, 59, tzinfo=UTC)

    assert next_daily(now, at) == datetime(2025, 6, 1, 3, 0, tzinfo=UTC)


def test_the_daily_report_is_tomorrow_once_passed_or_exactly_now() -> None:
    at = parse_time_of_day("03:00")

    assert next_daily(datetime(2025, 6, 1, 3, 0, tzinfo=UTC), at) == datetime(
        2025, 6, 2, 3, 0, tzinfo=UTC
    )
    assert next_daily(datetime(2025, 12, 31, 22, 0, tzinfo=UTC), at) == datetime(
        2026, 1, 1, 3, 0, tzinfo=UTC
    )


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
