"""Streams multiplexed over one connection, each with its own credit.

Both ends of a relay connection use this: the relay opens a stream per
visitor connection, the daemon answers it. A receiver grants each stream
INITIAL_WINDOW bytes and grants more only as its consumer takes data away,
so a slow visitor or a slow local server stalls its own stream and never
makes either side buffer without bound, while the other streams go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable

from services.tunnel import wire
from services.tunnel.link import FrameLink
from services.tunnel.wire import Frame, Kind, Payload, ProtocolError

log = logging.getLogger(__name__)

# Credit goes back in batches of at least this, so a bulk transfer costs a
# WINDOW frame per half megabyte rather than per read.
_CREDIT_BATCH = wire.INITIAL_WINDOW // 4
MAX_STREAMS = 1024


# Takes a payload straight from the connection and answers True once it is
# written on; False leaves it queued for the stream's reader.
Sink = Callable[[Payload], bool]


class StreamResetError(Exception):
    """The stream was aborted, by either side or with its connection."""


class Stream:
    """One bidirectional byte stream inside a connection."""

    def __init__(self, connection: Connection, stream_id: int) -> None:
        self.id = stream_id
        self._connection = connection
        self._send_credit = wire.INITIAL_WINDOW
        self._credit = asyncio.Event()
        self._recv_credit = wire.INITIAL_WINDOW
        self._unacked = 0
        self._inbound: deque[Payload] = deque()
        self._readable = asyncio.Event()
        self._sink: Sink | None = None
        self.remote_closed = False
        self.local_closed = False
        self.reset_reason: str | None = None
        self.received = 0
        self.sent = 0

    @property
    def done(self) -> bool:
        """True once the stream can carry nothing more either way."""

        return self.reset_reason is not None or (
            self.remote_closed and self.local_closed
        )

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        """Sends ``data``, waiting for credit as the receiver grants it."""

        view = memoryview(data)

        while view:
            while self._send_credit <= 0 and self.reset_reason is None:
                self._credit.clear()
                await self._credit.wait()

            if self.reset_reason is not None:
                raise StreamResetError(self.reset_reason)

            if self.local_closed:
                raise StreamResetError("written after finishing")

            size = min(len(view), self._send_credit, wire.MAX_DATA)
            self._send_credit -= size
            self.sent += size
            await self._connection.send_data(self.id, view[:size])
            view = view[size:]

    def try_write(self, data: bytes | memoryview) -> bool:
        """Sends ``data`` at once if credit and the connection allow; else False.

        Nothing is sent on False, so the caller falls back to ``write``.
        """

        if (
            self.reset_reason is not None
            or self.local_closed
            or len(data) > self._send_credit
            or len(data) > wire.MAX_DATA
            or not self._connection.writable
        ):
            return False

        self._send_credit -= len(data)
        self.sent += len(data)
        self._connection.write_data(self.id, data)
        return True

    async def read(self) -> Payload:
        """The next data received; b"" once the peer finished sending."""

        while not self._inbound:
            if self.reset_reason is not None:
                raise StreamResetError(self.reset_reason)

            if self.remote_closed:
                return b""

            self._readable.clear()
            await self._readable.wait()

        return self._inbound.popleft()

    def deliver_to(self, sink: Sink) -> None:
        """Hands data to ``sink`` as it arrives, while nothing waits before it.

        A small exchange then goes on within the connection's read, without
        waking the reader; whatever ``sink`` declines (its writer is busy) is
        queued for ``read`` as before, so the order never changes. Credit for
        what ``sink`` took goes back at once.
        """

        self._sink = sink

    def consumed(self, size: int) -> None:
        """Grants the peer ``size`` more bytes, once they have been passed on."""

        self._unacked += size

        if self.reset_reason is not None or self.remote_closed:
            return

        # Credit goes back once a batch is due, or as soon as the peer could
        # be running short, whichever comes first; either keeps it sending.
        if self._unacked and (
            self._unacked >= _CREDIT_BATCH or self._recv_credit < _CREDIT_BATCH
        ):
            self._recv_credit += self._unacked
            self._connection.send_nowait(wire.window(self.id, self._unacked))
            self._unacked = 0

    async def finish(self) -> None:
        """Tells the peer nothing more will be sent (a half-close)."""

        if self.local_closed or self.reset_reason is not None:
            return

        self.local_closed = True
        await self._connection.send(Frame(Kind.FIN, self.id))
        self._connection.forget_if_done(self)

    def reset(self, reason: str) -> None:
        """Aborts the stream both ways, telling the peer why."""

        if self.reset_reason is not None:
            return

        self._mark_reset(reason)
        self._connection.send_nowait(wire.text_frame(Kind.RESET, reason, self.id))

    def _accepts(self, size: int) -> bool:
        return not self.remote_closed and size <= self._recv_credit

    def _on_data(self, payload: Payload) -> None:
        if self.remote_closed:
            raise ProtocolError(f"DATA after FIN on stream {self.id}")

        if len(payload) > self._recv_credit:
            raise ProtocolError(f"DATA beyond the granted window on stream {self.id}")

        if self.reset_reason is not None:
            return

        self._recv_credit -= len(payload)
        self.received += len(payload)

        if self._sink is not None and not self._inbound and self._sink(payload):
            self.consumed(len(payload))
            return

        self._inbound.append(payload)
        self._readable.set()

    def _on_window(self, increment: int) -> None:
        self._send_credit += increment

        if self._send_credit > wire.MAX_WINDOW:
            raise ProtocolError(f"window overflow on stream {self.id}")

        self._credit.set()

    def _on_fin(self) -> None:
        self.remote_closed = True
        self._readable.set()

    def _mark_reset(self, reason: str) -> None:
        self.reset_reason = reason
        self._readable.set()
        self._credit.set()
        self._connection.forget(self.id)


OpenHandler = Callable[[Stream, Frame], None]
ControlHandler = Callable[[Frame], Awaitable[None]]


class Connection:
    """Frames over one established (TLS) link, split into streams.

    ``opener`` is the side that opens streams (the relay); the other side
    gets each OPEN through ``on_open``. Stream-0 frames other than PING go
    to ``on_control``.
    """

    def __init__(
        self,
        link: FrameLink,
        *,
        opener: bool,
        on_open: OpenHandler | None = None,
        on_control: ControlHandler | None = None,
    ) -> None:
        self._link = link
        self.opener = opener
        self.on_open = on_open
        self.on_control = on_control
        self.streams: dict[int, Stream] = {}
        self._last_id = 0
        self.last_received = time.monotonic()
        self.closed = asyncio.Event()
        self.close_reason = ""
        self._awaiting_control = False

    async def read_frame(self) -> Frame:
        """The next frame, checked; raises ProtocolError or EOF errors."""

        frame = await self._link.read_frame()
        self.last_received = time.monotonic()
        return frame

    async def send(self, frame: Frame) -> None:
        """Sends ``frame``, waiting while the connection's buffer is full."""

        self.send_nowait(frame)
        await self._drain()

    def send_nowait(self, frame: Frame) -> None:
        """Queues a small frame without waiting."""

        if not self._link.is_closing():
            self._link.write(wire.encode(frame))

    @property
    def writable(self) -> bool:
        """True when a frame goes out now, without waiting for a drain."""

        return self._link.writable

    async def send_data(self, stream_id: int, chunk: memoryview) -> None:
        """Sends one DATA frame without copying its payload twice."""

        if self._link.is_closing():
            raise StreamResetError(self.close_reason or "connection closed")

        self.write_data(stream_id, chunk)
        await self._drain()

    def write_data(self, stream_id: int, chunk: bytes | memoryview) -> None:
        """Queues one DATA frame on the link, header and payload together."""

        header = wire.encode_header(Kind.DATA, stream_id, len(chunk))
        self._link.writelines((header, chunk))

    def open_stream(self, frame_of: Callable[[int], Frame]) -> Stream:
        """Opens a stream with the OPEN frame ``frame_of(stream_id)``."""

        if not self.opener:
            raise RuntimeError("only the relay opens streams")

        if len(self.streams) >= MAX_STREAMS:
            raise StreamResetError("too many streams on this connection")

        self._last_id += 1
        stream = Stream(self, self._last_id)
        self.streams[stream.id] = stream
        self.send_nowait(frame_of(stream.id))
        return stream

    def forget(self, stream_id: int) -> None:
        """Drops a finished stream from the table."""

        self.streams.pop(stream_id, None)

    def forget_if_done(self, stream: Stream) -> None:
        """Drops ``stream`` once both sides have finished it."""

        if stream.done:
            self.forget(stream.id)

    async def serve(self) -> str:
        """Reads and dispatches frames until the connection ends; returns why."""

        self._link.on_frame = self._take

        try:
            while True:
                await self._dispatch(await self.read_frame())
        except ProtocolError as exc:
            reason = f"protocol error: {exc}"
            self.send_nowait(wire.text_frame(Kind.GOAWAY, reason))
        except asyncio.IncompleteReadError:
            reason = "connection closed by the peer"
        except (ConnectionError, OSError) as exc:
            reason = f"connection failed: {exc}"
        except GoAwayError as exc:
            reason = str(exc)

        await self.close(reason)
        return self.close_reason

    async def close(self, reason: str) -> None:
        """Resets every stream and closes the connection."""

        if self.closed.is_set():
            return

        self.close_reason = reason
        self.closed.set()
        self._link.on_frame = None

        for stream in list(self.streams.values()):
            stream._mark_reset(reason)

        self._link.close()

        # A TLS close waits for the peer's goodbye, which a dead peer never
        # sends: after a moment the connection is dropped without it.
        try:
            await asyncio.wait_for(self._link.wait_closed(), 1.0)
        except TimeoutError:
            self._link.abort()

    async def _dispatch(self, frame: Frame) -> None:
        kind = frame.kind

        if kind is Kind.PING:
            self.send_nowait(Frame(Kind.PONG, 0, frame.payload))
            return

        if kind is Kind.GOAWAY:
            raise GoAwayError(f"the peer closed the connection: {frame.text()}")

        if frame.stream_id == 0:
            if self.on_control is not None:
                self._awaiting_control = True

                try:
                    await self.on_control(frame)
                finally:
                    self._awaiting_control = False
            return

        if kind is Kind.OPEN:
            self._accept(frame)
            return

        stream = self.streams.get(frame.stream_id)

        if stream is None:
            # Frames cross a RESET in flight; only a stream never opened is
            # the peer's mistake.
            if frame.stream_id > self._last_id:
                raise ProtocolError(f"{kind.name} on unopened stream {frame.stream_id}")
            return

        if kind is Kind.DATA:
            stream._on_data(frame.payload)
        elif kind is Kind.WINDOW:
            stream._on_window(frame.increment())
        elif kind is Kind.FIN:
            stream._on_fin()
            self.forget_if_done(stream)
        elif kind is Kind.RESET:
            stream._mark_reset(f"reset by the peer: {frame.text()}")

    def _take(self, frame: Frame) -> bool:
        # DATA within an open stream's window needs no await, so it is handed
        # on as soon as it is parsed, saving the reader a turn of the loop.
        # Anything else, or anything behind a control frame being handled,
        # keeps its place in the queue.
        if frame.kind is not Kind.DATA or self._awaiting_control:
            return False

        stream = self.streams.get(frame.stream_id)

        if stream is None or not stream._accepts(len(frame.payload)):
            return False

        self.last_received = time.monotonic()
        stream._on_data(frame.payload)
        return True

    def _accept(self, frame: Frame) -> None:
        if self.opener or self.on_open is None:
            raise ProtocolError("OPEN sent to the side that opens streams")

        if frame.stream_id <= self._last_id:
            raise ProtocolError(f"OPEN reuses stream id {frame.stream_id}")

        if len(self.streams) >= MAX_STREAMS:
            raise ProtocolError("too many streams open")

        self._last_id = frame.stream_id
        stream = Stream(self, frame.stream_id)
        self.streams[stream.id] = stream
        self.on_open(stream, frame)

    async def _drain(self) -> None:
        try:
            await self._link.drain()
        except (ConnectionError, OSError) as exc:
            raise StreamResetError(f"connection lost: {exc}") from None


class GoAwayError(Exception):
    """The peer said goodbye."""


async def pump_to_stream(
    reader: asyncio.StreamReader, stream: Stream, chunk: int = wire.MAX_DATA
) -> None:
    """Copies ``reader`` into ``stream`` until EOF, then half-closes it."""

    while True:
        data = await reader.read(chunk)

        if not data:
            break

        await stream.write(data)

    await stream.finish()


async def pump_from_stream(stream: Stream, writer: asyncio.StreamWriter) -> None:
    """Copies ``stream`` to ``writer`` until the peer finishes, then EOF."""

    while True:
        data = await stream.read()

        if not data:
            break

        writer.write(data)
        await writer.drain()
        stream.consumed(len(data))

    if writer.can_write_eof():
        with contextlib.suppress(OSError):
            writer.write_eof()
