"""The connection to a tunnel's local interface, read without extra copies.

What the local server sends lands in a buffer that then becomes the DATA
payload as it is: a full read is handed on whole and a new buffer taken,
a short one is copied out so the buffer is used again. Reading pauses
while more than a couple of reads wait for the relay, so a slow visitor
holds the local server back instead of filling memory here.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable

from services.tunnel import wire
from services.tunnel.link import LinkBase

READ_SIZE = wire.MAX_DATA

# A connection starts with a small buffer and doubles it while reads fill
# it, so many small exchanges cost little memory and a download gets
# full-size reads.
FIRST_READ = 4 * 1024

# Reads shorter than this are copied out and the buffer kept for the next.
COPY_BELOW = 64 * 1024

# Bytes read but not yet sent on; past this, reading pauses.
QUEUE_HIGH = 2 * READ_SIZE


class LocalLink(LinkBase):
    """A local interface's connection: reads as payloads, writes with drain."""

    def __init__(self) -> None:
        super().__init__()
        self._buffer = bytearray(FIRST_READ)
        self._chunks: collections.deque[bytes | memoryview] = collections.deque()
        self._queued = 0
        self._eof = False
        self._error: Exception | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._read_paused = False

        # Takes a read straight away and answers True once it is sent on;
        # False queues it for ``read`` instead.
        self.forward: Callable[[bytes | memoryview], bool] | None = None

    @property
    def queued(self) -> int:
        """Bytes read from the local server and not yet taken."""

        return self._queued

    def get_buffer(self, sizehint: int) -> memoryview:
        """The buffer the next read fills."""

        return memoryview(self._buffer)

    def buffer_updated(self, nbytes: int) -> None:
        """Queues what was just read."""

        # asyncio still holds a view of the buffer here, so a large read is
        # handed on as a view and a new buffer taken, never resized.
        size = len(self._buffer)
        grown = min(2 * size, READ_SIZE) if nbytes == size else size

        if nbytes >= COPY_BELOW:
            chunk: bytes | memoryview = memoryview(self._buffer)[:nbytes]
            self._buffer = bytearray(grown)
        else:
            chunk = bytes(self._buffer[:nbytes])

            if grown != size:
                self._buffer = bytearray(grown)

        if not self._chunks and self.forward is not None and self.forward(chunk):
            return

        self._chunks.append(chunk)
        self._queued += nbytes
        self._wake()

        if self._queued > QUEUE_HIGH and not self._read_paused:
            self._read_paused = True

            if self.transport is not None:
                self.transport.pause_reading()

    def eof_received(self) -> bool:
        """The local server finished sending; writing may go on."""

        self._eof = True
        self._wake()

        # Over TLS a half-closed connection cannot be kept (asyncio would
        # warn and close it anyway); over TCP the visitor may still send.
        return self.transport is not None and not self.transport.get_extra_info(
            "sslcontext"
        )

    def connection_lost(self, exc: Exception | None) -> None:
        """The connection is gone."""

        self._eof = True
        self._error = exc
        self._wake()
        super().connection_lost(exc)

    async def read(self) -> bytes | memoryview:
        """The next bytes from the local server; b"" once it finished."""

        while not self._chunks:
            if self._error is not None:
                raise self._error

            if self._eof:
                return b""

            self._waiter = asyncio.get_running_loop().create_future()

            try:
                await self._waiter
            finally:
                self._waiter = None

        chunk = self._chunks.popleft()
        self._queued -= len(chunk)

        if self._read_paused and self._queued <= QUEUE_HIGH // 2:
            self._read_paused = False

            if self.transport is not None and not self.transport.is_closing():
                self.transport.resume_reading()

        return chunk

    def can_write_eof(self) -> bool:
        """True when a half-close can be sent (not over TLS)."""

        return self.transport is not None and self.transport.can_write_eof()

    def write_eof(self) -> None:
        """Tells the local server nothing more will come."""

        if self.transport is not None and not self.transport.is_closing():
            self.transport.write_eof()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
