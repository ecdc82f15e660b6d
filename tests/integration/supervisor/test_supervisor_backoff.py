"""The restart policy, as a function of how long each run lasted."""

from __future__ import annotations

from supervisor.children import describe_exit, restart_delay


def test_the_delay_doubles_with_each_quick_crash_up_to_thirty_seconds() -> None:
    delays = [restart_delay([1.0] * crashes) for crashes in range(1, 10)]

    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]


def test_a_run_of_a_minute_starts_the_backoff_over() -> None:
    assert restart_delay([1.0, 1.0, 1.0, 60.0]) == 0.5
    assert restart_delay([1.0, 1.0, 1.0, 60.0, 2.0]) == 0.5
    assert restart_delay([1.0, 1.0, 1.0, 60.0, 2.0, 2.0]) == 1.0


def test_a_run_just_short_of_a_minute_is_still_a_quick_crash() -> None:
    assert restart_delay([59.9, 59.9]) == 1.0


def test_a_child_failing_for_days_stays_at_the_cap() -> None:
    assert restart_delay([0.0] * 100_000) == 30.0


def test_exits_are_described_for_people() -> None:
    assert describe_exit(0) == "exited with code 0"
    assert describe_exit(3) == "exited with code 3"
    assert describe_exit(-9) == "was killed by SIGKILL"
    assert describe_exit(None) == "could not be started"
