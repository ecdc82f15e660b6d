"""The login throttle's counting, in isolation from the clock."""

from __future__ import annotations

from services.ui.throttle import LoginThrottle


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_five_failures_in_the_window_block_until_the_first_ages_out() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(limit=5, window=300, clock=clock)

    for _ in range(4):
        throttle.failed(["user:alice"])
        clock.now += 10

    assert throttle.retry_after(["user:alice"]) == 0

    throttle.failed(["user:alice"])

    assert throttle.retry_after(["user:alice"]) == 260
    clock.now += 259
    assert throttle.retry_after(["user:alice"]) == 1
    clock.now += 1
    assert throttle.retry_after(["user:alice"]) == 0


def test_failures_spread_wider_than_the_window_never_block() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(limit=5, window=300, clock=clock)

    for _ in range(20):
        throttle.failed(["user:alice"])
        clock.now += 61

    assert throttle.retry_after(["user:alice"]) == 0


def test_any_blocked_key_blocks_the_login() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(limit=2, window=300, clock=clock)
    throttle.failed(["address:10.0.0.1"])
    throttle.failed(["address:10.0.0.1"])

    assert throttle.retry_after(["user:bob", "address:10.0.0.1"]) == 300
    assert throttle.retry_after(["user:bob", "address:10.0.0.2"]) == 0


def test_a_success_forgets_the_failures_of_that_key() -> None:
    throttle = LoginThrottle(limit=2, clock=FakeClock())
    throttle.failed(["user:alice", "address:10.0.0.1"])

    throttle.succeeded("user:alice")
    throttle.failed(["user:alice", "address:10.0.0.1"])

    assert throttle.retry_after(["user:alice"]) == 0
    assert throttle.retry_after(["address:10.0.0.1"]) > 0


def test_the_number_of_keys_is_bounded() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(limit=1, clock=clock, max_keys=3)

    for name in ("a", "b", "c", "d"):
        throttle.failed([f"user:{name}"])
        clock.now += 1

    assert throttle.retry_after(["user:a"]) == 0
    assert throttle.retry_after(["user:d"]) > 0
