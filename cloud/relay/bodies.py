"""Reading a visitor's HTTP/1.1 messages: request heads and bodies as framed.

A request head is read whole (bounded in size and, for the first, in
time) before it is checked; a body is passed on piece by piece as its
framing says (a length, chunks, or everything after an upgrade), so a
large upload never sits in memory here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import SupportsIndex

from cloud.relay import http1
from services.tunnel import wire

READ_SIZE = wire.MAX_DATA

# A visitor gets this long to send a complete request head.
HEAD_TIMEOUT = 30.0

Send = Callable[[bytes], Awaitable[None]]

# Takes what a visitor sent as it arrives; True once it has been passed on.
Taker = Callable[[bytes], bool]


class VisitorReader(asyncio.StreamReader):
    """A visitor connection's reader that may pass a request on as it arrives.

    Between requests on a kept-alive connection, the ingress sets ``taker``:
    a request that came whole, with nothing before it, can then go down the
    tunnel within the read itself instead of after waking the connection's
    task, which is one turn of the loop fewer per request at this hop. What
    the taker declines is buffered and read as usual, so nothing is skipped.
    """

    taker: Taker | None = None

    def feed_data(self, data: Iterable[SupportsIndex]) -> None:
        taker = self.taker

        if (
            taker is not None
            and isinstance(data, bytes)
            and not self._buffer  # type: ignore[attr-defined]
            and taker(data)
        ):
            return

        super().feed_data(data)


async def read_head(
    reader: asyncio.StreamReader,
    buffer: bytearray,
    timeout: float | None = HEAD_TIMEOUT,
) -> http1.RequestHead | None:
    """The next request head, or None when the visitor closed cleanly."""

    async def read() -> http1.RequestHead | None:
        while (end := http1.head_end(buffer)) < 0:
            if len(buffer) > http1.MAX_HEAD:
                raise http1.HttpError(431, "The request head is too large.")

            data = await reader.read(READ_SIZE)

            if not data:
                if buffer:
                    raise http1.HttpError(400, "The request head is incomplete.")

                return None

            buffer.extend(data)

        head = http1.parse_head(bytes(buffer[:end]))
        del buffer[:end]
        return head

    if timeout is None:
        return await read()

    return await asyncio.wait_for(read(), timeout)


async def copy_length(
    reader: asyncio.StreamReader, buffer: bytearray, send: Send, length: int
) -> None:
    """Passes on a body of ``length`` bytes, what is buffered first."""

    while length:
        if buffer:
            data = bytes(buffer[:length])
            del buffer[: len(data)]
        else:
            data = await reader.read(min(length, READ_SIZE))

            if not data:
                raise asyncio.IncompleteReadError(b"", length)

        length -= len(data)
        await send(data)


async def copy_chunked(
    reader: asyncio.StreamReader, buffer: bytearray, send: Send
) -> None:
    """Passes on a chunked body, checking each chunk's framing, and trailers."""

    while True:
        line = await _read_line(reader, buffer)
        size = http1.chunk_size(line[:-2])
        await send(line)

        if size == 0:
            break

        await copy_length(reader, buffer, send, size)

        if await _read_line(reader, buffer) != b"\r\n":
            raise http1.HttpError(400, "A chunk is not followed by CRLF.")

        await send(b"\r\n")

    while True:
        line = await _read_line(reader, buffer)
        await send(line)

        if line == b"\r\n":
            return


async def copy_rest(
    reader: asyncio.StreamReader, buffer: bytearray, send: Send
) -> None:
    """Passes on everything until the visitor stops sending (an upgrade)."""

    if buffer:
        await send(bytes(buffer))
        buffer.clear()

    while data := await reader.read(READ_SIZE):
        await send(data)


async def _read_line(reader: asyncio.StreamReader, buffer: bytearray) -> bytes:
    while (end := buffer.find(b"\r\n")) < 0:
        if len(buffer) > 4096:
            raise http1.HttpError(400, "A chunk header line is too long.")

        data = await reader.read(READ_SIZE)

        if not data:
            raise asyncio.IncompleteReadError(bytes(buffer), None)

        buffer.extend(data)

    line = bytes(buffer[: end + 2])
    del buffer[: end + 2]
    return line


async def close(writer: asyncio.StreamWriter) -> None:
    """Closes a visitor connection, dropping it if the goodbye does not come."""

    writer.close()

    try:
        await asyncio.wait_for(writer.wait_closed(), 1.0)
    except TimeoutError:
        writer.transport.abort()
    except (ConnectionError, OSError):
        pass
