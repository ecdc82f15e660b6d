"""The transport under a relay connection: frames in, bytes out, back-pressure.

A bulk transfer spends most of its time moving bytes, so the reading side
is a buffered protocol: TLS decrypts small frames into one staging buffer
and a large payload straight into a buffer of its own, which then travels
to the stream's consumer without another copy. The writing side hands
bytes to the transport and lets a writer wait while the transport's
buffer is above its high-water mark.
"""

from __future__ import annotations

import asyncio
import collections
import ssl
from collections.abc import Callable, Iterable

from services.tunnel import wire
from services.tunnel.wire import Frame, ProtocolError

# Room for many small frames per read; a larger payload gets a buffer of
# its own instead. Every daemon connection at the relay has one, so it is
# kept small.
STAGING_SIZE = 32 * 1024

# Below this much room left, the staging area is compacted before a read.
MIN_READ = 8 * 1024

# Frames read but not yet dispatched; past this many, reading pauses.
QUEUE_HIGH = 64
QUEUE_LOW = 16

# What the transport may hold before writers wait: a few full DATA frames,
# so one frame in flight never stalls the next.
WRITE_HIGH = 4 * wire.MAX_DATA


class LinkClosedError(ConnectionError):
    """The link ended; reading or writing on it is over."""


class LinkBase(asyncio.BufferedProtocol):
    """The writing half every link shares: back-pressure and closing."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._write_paused = False
        self._drain_waiters: list[asyncio.Future[None]] = []
        self._closed: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Called by asyncio (or by hand after start_tls) once connected."""

        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._closed = asyncio.get_running_loop().create_future()
        transport.set_write_buffer_limits(high=WRITE_HIGH)

    def connection_lost(self, exc: Exception | None) -> None:
        """The transport is gone; writers waiting are told."""

        self._resume_writers(exc or LinkClosedError("the connection closed"))

        if self._closed is not None and not self._closed.done():
            self._closed.set_result(None)

    def pause_writing(self) -> None:
        """The transport's buffer is full: writers wait."""

        self._write_paused = True

    def resume_writing(self) -> None:
        """The transport's buffer drained: writers go on."""

        self._write_paused = False
        self._resume_writers(None)

    @property
    def writable(self) -> bool:
        """True when a write goes out now: open and below the high-water mark."""

        return not self._write_paused and not self.is_closing()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Queues ``data`` on the transport."""

        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def writelines(self, parts: Iterable[bytes | bytearray | memoryview]) -> None:
        """Queues several pieces at once."""

        if self.transport is not None and not self.transport.is_closing():
            self.transport.writelines(parts)

    async def drain(self) -> None:
        """Waits while the transport holds more than its high-water mark."""

        if self.transport is None or self.transport.is_closing():
            raise LinkClosedError("the connection closed")

        if not self._write_paused:
            return

        waiter = asyncio.get_running_loop().create_future()
        self._drain_waiters.append(waiter)
        await waiter

    def is_closing(self) -> bool:
        """True once the link is closing or closed."""

        return self.transport is None or self.transport.is_closing()

    def close(self) -> None:
        """Closes the transport after what is queued is sent."""

        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        """Drops the transport at once."""

        if self.transport is not None:
            self.transport.abort()

    async def wait_closed(self) -> None:
        """Waits until the transport is gone."""

        if self._closed is not None:
            await asyncio.shield(self._closed)

    def _resume_writers(self, exc: BaseException | None) -> None:
        waiters, self._drain_waiters = self._drain_waiters, []

        for waiter in waiters:
            if waiter.done():
                continue

            if exc is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(exc)


class FrameLink(LinkBase):
    """One connection speaking frames, usable once the transport is made."""

    def __init__(self, on_made: Callable[[FrameLink], None] | None = None) -> None:
        super().__init__()
        self._on_made = on_made
        self._staging = bytearray(STAGING_SIZE)
        self._start = 0
        self._end = 0
        self._header: wire.Header | None = None
        self._payload: bytearray | None = None
        self._filled = 0
        self._frames: collections.deque[Frame] = collections.deque()
        self._waiter: asyncio.Future[None] | None = None
        self._error: BaseException | None = None
        self._read_paused = False

        # Takes a frame as it is parsed and answers True once handled; False
        # queues it for ``read_frame``. It only sees a frame with none queued.
        self.on_frame: Callable[[Frame], bool] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Called by asyncio (or by hand after start_tls) once connected."""

        super().connection_made(transport)

        if self._on_made is not None:
            self._on_made(self)

    def get_buffer(self, sizehint: int) -> memoryview:
        """Where the next bytes go: the current payload, or the staging area."""

        if self._payload is not None:
            return memoryview(self._payload)[self._filled :]

        if self._start == self._end:
            self._start = self._end = 0
        elif len(self._staging) - self._end < MIN_READ:
            self._compact()

        return memoryview(self._staging)[self._end :]

    def buffer_updated(self, nbytes: int) -> None:
        """Parses what just arrived into frames."""

        # After a broken frame nothing that follows can be trusted.
        if self._error is not None:
            return

        try:
            if self._payload is not None:
                self._filled += nbytes

                if self._filled == len(self._payload):
                    self._complete(self._payload)
                    self._payload = None
            else:
                self._end += nbytes

            self._parse()
        except ProtocolError as exc:
            self._fail(exc)
            return

        # Frames the handler took need no reader; waking it for nothing
        # would cost a turn of the loop per read.
        if self._frames:
            self._wake()

        if len(self._frames) > QUEUE_HIGH and not self._read_paused:
            self._read_paused = True
            self._pause_reading()

    def eof_received(self) -> bool:
        """The peer will send no more; the link closes."""

        self._fail(asyncio.IncompleteReadError(b"", None))
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        """The transport is gone; readers and writers are told."""

        self._fail(exc or asyncio.IncompleteReadError(b"", None))
        super().connection_lost(exc)

    async def read_frame(self) -> Frame:
        """The next frame; raises ProtocolError, IncompleteReadError or OSError."""

        while not self._frames:
            if self._error is not None:
                raise self._error

            self._waiter = asyncio.get_running_loop().create_future()

            try:
                await self._waiter
            finally:
                self._waiter = None

        frame = self._frames.popleft()

        if self._read_paused and len(self._frames) <= QUEUE_LOW:
            self._read_paused = False
            self._resume_reading()

        return frame

    def _parse(self) -> None:
        view = memoryview(self._staging)

        while self._payload is None:
            if self._header is None:
                if self._end - self._start < wire.HEADER_SIZE:
                    return

                stop = self._start + wire.HEADER_SIZE
                self._header = wire.decode_header(view[self._start : stop])
                self._start = stop

            length = self._header.length
            available = self._end - self._start

            if available >= length:
                stop = self._start + length
                self._complete(bytes(view[self._start : stop]))
                self._start = stop
                continue

            if length <= len(self._staging) - MIN_READ:
                # A small payload waits in the staging area for the rest.
                return

            # A large payload gets its own buffer, filled straight from TLS.
            self._payload = bytearray(length)
            self._payload[:available] = view[self._start : self._end]
            self._filled = available
            self._start = self._end = 0

    def _complete(self, payload: bytes | bytearray) -> None:
        header = self._header
        assert header is not None
        self._header = None
        frame = wire.check_payload(header, payload)

        if not self._frames and self.on_frame is not None and self.on_frame(frame):
            return

        self._frames.append(frame)

    def _compact(self) -> None:
        size = self._end - self._start
        self._staging[:size] = self._staging[self._start : self._end]
        self._start, self._end = 0, size

    def _fail(self, exc: BaseException) -> None:
        if self._error is None:
            self._error = exc

        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _pause_reading(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.pause_reading()

    def _resume_reading(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()


async def open_link(
    host: str, port: int, context: ssl.SSLContext | None, server_hostname: str
) -> FrameLink:
    """A new connection to host:port speaking frames (TLS with ``context``)."""

    loop = asyncio.get_running_loop()
    _, link = await loop.create_connection(
        FrameLink,
        host,
        port,
        ssl=context,
        server_hostname=server_hostname if context is not None else None,
    )
    return link


async def upgrade_link(
    transport: asyncio.WriteTransport, context: ssl.SSLContext, server_hostname: str
) -> FrameLink:
    """TLS over an already open connection (a proxy's tunnel), speaking frames."""

    loop = asyncio.get_running_loop()
    link = FrameLink()
    secured = await loop.start_tls(
        transport, link, context, server_hostname=server_hostname
    )

    if secured is None:
        raise LinkClosedError("the connection closed during the TLS handshake")

    link.connection_made(secured)
    return link
