"""Data handed on without a reader's turn: sinks and immediate writes."""

from __future__ import annotations

import asyncio

from services.tunnel import wire
from services.tunnel.mux import Stream
from services.tunnel.wire import Payload
from tests.unit.tunnel.test_mux import REQUEST, pair, run


def test_a_sink_takes_data_as_it_arrives_and_gives_credit_back() -> None:
    async def scenario() -> None:
        opened: asyncio.Queue[Stream] = asyncio.Queue()
        taken: list[bytes] = []

        def sink(payload: Payload) -> bool:
            taken.append(bytes(payload))
            return True

        def on_open(stream: Stream, frame: wire.Frame) -> None:
            stream.deliver_to(sink)
            opened.put_nowait(stream)

        async with pair(on_open) as (relay, _):
            there = relay.open_stream(REQUEST)
            here = await opened.get()
            data = bytes(range(256)) * (3 * wire.INITIAL_WINDOW // 256)

            # More than one window: it only completes if credit came back.
            await asyncio.wait_for(there.write(data), 10)
            await there.finish()

            assert await here.read() == b""
            assert b"".join(taken) == data

    run(scenario())


def test_what_a_sink_declines_is_read_in_order() -> None:
    async def scenario() -> None:
        opened: asyncio.Queue[Stream] = asyncio.Queue()
        taken: list[bytes] = []
        declining = True

        def sink(payload: Payload) -> bool:
            if declining:
                return False

            taken.append(bytes(payload))
            return True

        def on_open(stream: Stream, frame: wire.Frame) -> None:
            stream.deliver_to(sink)
            opened.put_nowait(stream)

        async with pair(on_open) as (relay, _):
            there = relay.open_stream(REQUEST)
            here = await opened.get()
            await there.write(b"first")

            assert await here.read() == b"first"

            here.consumed(5)
            declining = False
            await there.write(b"second")
            await there.finish()

            assert await here.read() == b""
            assert taken == [b"second"]

    run(scenario())


def test_an_immediate_write_stays_within_the_credit() -> None:
    async def scenario() -> None:
        opened: asyncio.Queue[Stream] = asyncio.Queue()

        async with pair(lambda s, f: opened.put_nowait(s)) as (relay, _):
            there = relay.open_stream(REQUEST)
            here = await opened.get()
            window = wire.INITIAL_WINDOW

            for _ in range(window // wire.MAX_DATA):
                assert here.try_write(b"x" * wire.MAX_DATA)

            assert not here.try_write(b"y")
            assert here.sent == window

            received = b""

            while len(received) < window:
                received += await there.read()

            assert received == b"x" * window

            here.reset("done")

            assert not here.try_write(b"z")

    run(scenario())
