"""The tunnel's event loop polls for a bounded moment after traffic only."""

from __future__ import annotations

import asyncio
import selectors
import socket
from collections.abc import Iterator

import pytest

from services.tunnel import polling


class Clock:
    """A clock that moves on by ``step`` each time it is read."""

    def __init__(self, step: float) -> None:
        self.now = 100.0
        self.step = step
        self.reads = 0

    def __call__(self) -> float:
        self.now += self.step
        self.reads += 1
        return self.now


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float | None]:
    """The timeout of every epoll wait the selector makes."""

    seen: list[float | None] = []
    real = selectors.EpollSelector.select

    def select(
        self: selectors.EpollSelector, timeout: float | None = None
    ) -> polling.Ready:
        seen.append(timeout)
        return real(self, timeout)

    monkeypatch.setattr(selectors.EpollSelector, "select", select)
    return seen


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    left, right = socket.socketpair()
    left.setblocking(False)
    yield left, right
    left.close()
    right.close()


def test_an_idle_selector_sleeps_at_once(
    waits: list[float | None], pair: tuple[socket.socket, socket.socket]
) -> None:
    selector = polling.PollingSelector(0.0005, Clock(0.0001))
    selector.register(pair[0], selectors.EVENT_READ)

    assert selector.select(0.01) == []
    assert selector.select(0.01) == []
    assert waits == [0.01, 0.01]


def test_after_traffic_it_polls_for_its_time_then_sleeps_the_rest(
    waits: list[float | None], pair: tuple[socket.socket, socket.socket]
) -> None:
    clock = Clock(0.0001)
    selector = polling.PollingSelector(0.0005, clock)
    selector.register(pair[0], selectors.EVENT_READ)
    pair[1].send(b"x")

    assert len(selector.select(1.0)) == 1

    pair[0].recv(1)
    waits.clear()

    assert selector.select(0.01) == []

    polls = [w for w in waits if w == 0]
    assert len(polls) == 5
    assert waits[:-1] == polls
    assert waits[-1] == pytest.approx(0.01 - 0.0005)


def test_what_arrives_while_polling_is_returned_without_sleeping(
    waits: list[float | None], pair: tuple[socket.socket, socket.socket]
) -> None:
    clock = Clock(0.0001)
    selector = polling.PollingSelector(0.0005, clock)
    selector.register(pair[0], selectors.EVENT_READ)
    pair[1].send(b"x")
    selector.select(1.0)
    pair[0].recv(1)
    waits.clear()

    def arrives() -> float:
        if clock.reads == 3:
            pair[1].send(b"y")

        return clock()

    selector._clock = arrives

    assert len(selector.select(None)) == 1
    assert set(waits) == {0}


def test_polling_never_outlasts_a_shorter_timeout(
    waits: list[float | None], pair: tuple[socket.socket, socket.socket]
) -> None:
    selector = polling.PollingSelector(0.0005, Clock(0.0001))
    selector.register(pair[0], selectors.EVENT_READ)
    pair[1].send(b"x")
    selector.select(1.0)
    pair[0].recv(1)
    waits.clear()

    assert selector.select(0.0002) == []
    assert waits[:2] == [0, 0]
    assert waits[2:] == [pytest.approx(0.0, abs=1e-9)]


def late_answers(
    monkeypatch: pytest.MonkeyPatch,
    pair: tuple[socket.socket, socket.socket],
    clock: Clock,
    after: float,
) -> list[float | None]:
    """Data comes ``after`` seconds into each blocking wait, or at once if 0."""

    seen: list[float | None] = []
    real = selectors.EpollSelector.select

    def select(
        self: selectors.EpollSelector, timeout: float | None = None
    ) -> polling.Ready:
        seen.append(timeout)

        if timeout != 0 or not after:
            pair[1].send(b"x")
            clock.now += after

        return real(self, timeout)

    monkeypatch.setattr(selectors.EpollSelector, "select", select)
    return seen


def polled_waits(
    monkeypatch: pytest.MonkeyPatch,
    pair: tuple[socket.socket, socket.socket],
    credit: int,
    after: float,
    waits: int,
) -> tuple[list[bool], polling.PollingSelector]:
    """Whether each of ``waits`` waits after traffic polled, from ``credit``."""

    clock = Clock(0.0001)
    selector = polling.PollingSelector(0.0005, clock)
    selector.register(pair[0], selectors.EVENT_READ)
    selector.credit = credit
    seen = late_answers(monkeypatch, pair, clock, after)
    selector.select(1.0)
    polled = []

    for _ in range(waits):
        pair[0].recv(16)
        seen.clear()
        assert len(selector.select(1.0)) == 1
        polled.append(0 in seen)

    return polled, selector


def test_late_answers_use_up_the_credit_and_polling_stops(
    monkeypatch: pytest.MonkeyPatch, pair: tuple[socket.socket, socket.socket]
) -> None:
    polled, selector = polled_waits(monkeypatch, pair, credit=3, after=0.01, waits=5)

    assert polled == [True, True, True, False, False]
    assert selector.credit == 0


def test_short_waits_earn_the_credit_back(
    monkeypatch: pytest.MonkeyPatch, pair: tuple[socket.socket, socket.socket]
) -> None:
    polled, selector = polled_waits(
        monkeypatch, pair, credit=0, after=0.0, waits=polling.CREDIT + 3
    )

    assert polled[0] is False
    assert all(polled[1:])
    assert selector.credit == polling.CREDIT


def test_zero_gives_the_standard_loop() -> None:
    loop = polling.new_event_loop(0)

    try:
        assert not isinstance(getattr(loop, "_selector", None), polling.PollingSelector)
    finally:
        loop.close()


def test_a_polling_loop_carries_data() -> None:
    loop = polling.new_event_loop(0.0005)

    async def echo() -> bytes:
        async def serve(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter
        ) -> None:
            writer.write(await reader.readexactly(5))
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)

        for _ in range(3):
            await asyncio.sleep(0.01)

        writer.write(b"hello")
        answer = await reader.read()
        writer.close()
        server.close()
        return answer

    try:
        assert isinstance(getattr(loop, "_selector", None), polling.PollingSelector)
        assert loop.run_until_complete(echo()) == b"hello"
    finally:
        loop.close()
