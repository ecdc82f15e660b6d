"""Clock drift from a Date header, and the reconnection backoff."""

from __future__ import annotations

import random
from email.utils import formatdate

import pytest

from services.tunnel.backoff import retry_delay
from services.tunnel.clock import drift_from_date, drift_warning


def test_drift_is_cloud_minus_local_from_the_middle_of_the_exchange() -> None:
    local = 1_700_000_000.0
    date = formatdate(local + 60, usegmt=True)

    assert drift_from_date(date, local - 0.2, local + 0.2) == 60.5


def test_an_unreadable_date_is_an_error() -> None:
    with pytest.raises(ValueError, match="Date"):
        drift_from_date("yesterday", 0, 1)


def test_the_warning_appears_beyond_45_seconds() -> None:
    assert drift_warning(44.9) == ""
    assert drift_warning(-46.2) == (
        "The system time is incorrect. This can cause connection problems. "
        "Clock drift detected: 46s"
    )


def test_retries_start_fast_grow_and_stay_capped() -> None:
    rand = random.Random(7)
    delays = [retry_delay(n, 30, rand) for n in range(1, 12)]

    assert 0.25 <= delays[0] <= 0.5
    assert all(15 <= d <= 30 for d in delays[-3:])
    assert delays[3] > delays[0]


def test_retries_are_jittered() -> None:
    rand = random.Random(1)

    assert len({retry_delay(5, 30, rand) for _ in range(20)}) > 10
