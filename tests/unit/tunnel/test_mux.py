"""Streams over a real loopback connection: credit, half-close, reset."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from services.tunnel import wire
from services.tunnel.link import FrameLink, open_link
from services.tunnel.messages import Open, Visitor
from services.tunnel.mux import Connection, Stream, StreamResetError
from services.tunnel.wire import Frame

REQUEST = Open("pbx", "admin", Visitor("u", "a", "127.0.0.1")).frame


@asynccontextmanager
async def pair(
    on_open: Callable[[Stream, Frame], None],
) -> AsyncIterator[tuple[Connection, Connection]]:
    """A relay-side and a daemon-side connection over real TCP."""

    loop = asyncio.get_running_loop()
    accepted: asyncio.Future[Connection] = loop.create_future()

    def accept(link: FrameLink) -> None:
        accepted.set_result(Connection(link, opener=False, on_open=on_open))

    server = await loop.create_server(lambda: FrameLink(on_made=accept), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    relay = Connection(await open_link("127.0.0.1", port, None, ""), opener=True)
    daemon = await accepted
    tasks = [asyncio.create_task(relay.serve()), asyncio.create_task(daemon.serve())]

    try:
        yield relay, daemon
    finally:
        await relay.close("done")
        await daemon.close("done")
        await asyncio.gather(*tasks)
        server.close()
        await server.wait_closed()


def run(coroutine: object) -> None:
    asyncio.run(coroutine)  # type: ignore[arg-type]


def test_data_flows_both_ways_and_half_closes() -> None:
    async def scenario() -> None:
        opened: asyncio.Queue[Stream] = asyncio.Queue()

        async with pair(lambda s, f: opened.put_nowait(s)) as (relay, _):
            there = relay.open_stream(REQUEST)
            here = await opened.get()
            await there.write(b"ping")
            await there.finish()

            assert await here.read() == b"ping"
            assert await here.read() == b""

            await here.write(b"pong" * 100_000)
            await here.finish()
            got = b""

            while data := await there.read():
                got += data
                there.consumed(len(data))

            assert got == b"pong" * 100_000
            assert there.done

    run(scenario())


def test_a_slow_reader_stops_the_writer_at_its_window() -> None:
    async def scenario() -> None:
        opened: asyncio.Queue[Stream] = asyncio.Queue()

        async with pair(lambda s, f: opened.put_nowait(s)) as (relay, _):
            there = relay.open_stream(REQUEST)
            here = await opened.get()
            writing = asyncio.create_task(here.write(b"x" * (3 * wire.INITIAL_WINDOW)))
            await asyncio.sleep(0.3)

            assert not writing.done()
            assert here.sent == wire.INITIAL_WINDOW

            received = 0

            while received < 3 * wire.INITIAL_WINDOW:
                data = await there.read()
                received += len(data)
                there.consumed(len(data))

            await writing
            assert here.sent == 3 * wire.INITIAL_WINDOW

    run(scenario())


def test_one_stalled_stream_does_not_stop_another() -> None:
    async def scenario() -> None:
        opened: asyncio.Queue[Stream] = asyncio.Queue()

        async with pair(lambda s, f: opened.put_nowait(s)) as (relay, _):
            relay.open_stream(REQUEST)
            stalled = await opened.get()
            there = relay.open_stream(REQUEST)
            lively = await opened.get()
            blocked = asyncio.create_task(
                stalled.write(b"x" * (2 * wire.INITIAL_WINDOW))
            )

            await lively.write(b"still here")

            assert await asyncio.wait_for(there.read(), 5) == b"still here"
            assert not blocked.done()
            blocked.cancel()

    run(scenario())


def test_a_reset_reaches_the_other_side_with_its_reason() -> None:
    async def scenario() -> None:
        opened: asyncio.Queue[Stream] = asyncio.Queue()

        async with pair(lambda s, f: opened.put_nowait(s)) as (relay, _):
            there = relay.open_stream(REQUEST)
            here = await opened.get()
            here.reset("refused: not in the profile")

            with pytest.raises(StreamResetError, match="not in the profile"):
                await there.read()

            with pytest.raises(StreamResetError):
                await there.write(b"late")

    run(scenario())


def test_data_beyond_the_window_breaks_the_connection() -> None:
    async def scenario() -> None:
        opened: asyncio.Queue[Stream] = asyncio.Queue()

        async with pair(lambda s, f: opened.put_nowait(s)) as (relay, daemon):
            stream = relay.open_stream(REQUEST)
            await opened.get()

            for _ in range(wire.INITIAL_WINDOW // wire.MAX_DATA + 1):
                await relay.send(Frame(wire.Kind.DATA, stream.id, b"x" * wire.MAX_DATA))

            await asyncio.wait_for(daemon.closed.wait(), 5)

            assert "beyond the granted window" in daemon.close_reason

    run(scenario())
