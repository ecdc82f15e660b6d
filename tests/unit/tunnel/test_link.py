"""The buffered links: frames however the bytes are cut, and bounded reads."""

from __future__ import annotations

import asyncio

import pytest

from services.tunnel import wire
from services.tunnel.link import FrameLink
from services.tunnel.local import QUEUE_HIGH, READ_SIZE, LocalLink
from services.tunnel.wire import Frame, Kind, ProtocolError

FRAMES = [
    wire.control(Kind.HELLO, {"token": "t", "system_id": "s"}),
    Frame(Kind.DATA, 1, bytes(range(256)) * 1024),
    Frame(Kind.DATA, 3, b"x"),
    wire.window(1, 70_000),
    Frame(Kind.DATA, 1, b"y" * 100_000),
    Frame(Kind.DATA, 5, b"z" * 200_000),
    Frame(Kind.PING, 0, b"12345678"),
    Frame(Kind.DATA, 7, b"w" * wire.MAX_DATA),
]


def feed(link: FrameLink, data: bytes, cut: int) -> None:
    """Hands ``data`` to the link the way a transport does, ``cut`` at most."""

    offset = 0

    while offset < len(data):
        buffer = link.get_buffer(-1)
        size = min(len(buffer), cut, len(data) - offset)
        buffer[:size] = data[offset : offset + size]
        link.buffer_updated(size)
        offset += size


async def drain(link: FrameLink, count: int) -> list[Frame]:
    return [await link.read_frame() for _ in range(count)]


@pytest.mark.parametrize("cut", [10, 997, 65_536, 300_000, 10**7])
def test_frames_come_out_whole_however_the_bytes_are_cut(cut: int) -> None:
    stream = b"".join(wire.encode(f) for f in FRAMES) * 2
    link = FrameLink()
    feed(link, stream, cut)

    frames = asyncio.run(drain(link, 2 * len(FRAMES)))

    assert [(f.kind, f.stream_id, bytes(f.payload)) for f in frames] == [
        (f.kind, f.stream_id, f.payload) for f in FRAMES * 2
    ]


def test_small_frames_come_out_whole_fed_a_byte_at_a_time() -> None:
    small = [f for f in FRAMES if len(f.payload) < 1000]
    link = FrameLink()
    feed(link, b"".join(wire.encode(f) for f in small), 1)

    frames = asyncio.run(drain(link, len(small)))

    assert frames == small


def test_a_bad_header_fails_the_reader_after_the_good_frames() -> None:
    link = FrameLink()
    feed(link, wire.encode(FRAMES[2]) + b"\xff" * wire.HEADER_SIZE, 4096)

    async def scenario() -> None:
        assert (await link.read_frame()).payload == b"x"

        with pytest.raises(ProtocolError, match="unknown frame kind 255"):
            await link.read_frame()

    asyncio.run(scenario())


def test_the_end_of_the_connection_ends_reading_after_the_last_frame() -> None:
    link = FrameLink()
    feed(link, wire.encode(FRAMES[2]) + wire.encode(FRAMES[1])[:500], 4096)
    link.eof_received()

    async def scenario() -> None:
        assert (await link.read_frame()).payload == b"x"

        with pytest.raises(asyncio.IncompleteReadError):
            await link.read_frame()

    asyncio.run(scenario())


def test_a_local_server_that_sends_more_than_is_taken_is_held_back() -> None:
    async def scenario() -> None:
        sent = 0
        blocked = asyncio.Event()

        async def flood(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter
        ) -> None:
            nonlocal sent
            block = b"b" * 65_536

            for _ in range(512):
                writer.write(block)
                sent += len(block)

                if writer.transport.get_write_buffer_size() > 0:
                    blocked.set()

                await writer.drain()

            writer.close()

        server = await asyncio.start_server(flood, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        loop = asyncio.get_running_loop()
        _, link = await loop.create_connection(LocalLink, "127.0.0.1", port)

        # Nothing is read here, so the server's buffer fills; the link must
        # hold no more than its bound meanwhile.
        await asyncio.wait_for(blocked.wait(), 30)
        assert link.queued <= QUEUE_HIGH + READ_SIZE

        received = 0

        while data := await link.read():
            received += len(data)
            assert link.queued <= QUEUE_HIGH + READ_SIZE

        assert received == sent == 512 * 65_536
        link.close()
        server.close()
        await server.wait_closed()

    asyncio.run(scenario())
