"""The public ingress: visitors' HTTP routed by Host down a daemon's tunnel.

Each visitor connection becomes one stream to the daemon. Every request on
it is read and checked (host, token, framing) before it goes on; bodies
and the local server's answers pass through as they come, under the
stream's flow control. A WebSocket (or any) upgrade turns the rest of the
connection into a plain byte stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from cloud.relay import entry, http1, pages
from cloud.relay.auth import AuthError, Authority, Identity
from cloud.relay.metrics import RelayMetrics
from cloud.relay.registry import Host, Registry
from services.tunnel import wire
from services.tunnel.messages import Open, Visitor
from services.tunnel.mux import Stream, StreamResetError

log = logging.getLogger(__name__)

COOKIE = "cld_relay_token"
READ_SIZE = wire.MAX_DATA

# A visitor gets this long to send a complete request head.
HEAD_TIMEOUT = 30.0


class RefusedError(Exception):
    """A request the relay answers itself."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Ingress:
    """Serves visitor connections."""

    def __init__(
        self,
        registry: Registry,
        authority: Authority,
        metrics: RelayMetrics,
        host_suffix: str,
        secure_cookie: bool = False,
    ) -> None:
        self.registry = registry
        self.authority = authority
        self.metrics = metrics
        self.host_suffix = host_suffix
        self.secure_cookie = secure_cookie

    async def handle(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Serves one visitor connection."""

        peer = writer.get_extra_info("peername")
        address = peer[0] if isinstance(peer, tuple) else ""
        buffer = bytearray()

        try:
            head = await _read_head(reader, buffer)

            if head is None:
                return

            http1.framing(head)
            code = entry.entry_code(head)

            if code is not None:
                writer.write(await self._enter(head, code))
                return

            host, who = await self._admit(head)
            await self._forward(reader, writer, buffer, head, host, who, address)
        except RefusedError as exc:
            self.metrics.refusals.labels(str(exc.status)).inc()
            log.info(
                "Refused a visitor from %s: %s %s",
                address,
                exc.status,
                exc.message,
                extra={"status": exc.status},
            )
            extra = {"WWW-Authenticate": 'Bearer realm="CloudLink relay"'}
            writer.write(
                pages.response(
                    exc.status, exc.message, extra if exc.status == 401 else None
                )
            )
        except http1.HttpError as exc:
            self.metrics.refusals.labels(str(exc.status)).inc()
            writer.write(pages.response(exc.status, exc.message))
        except TimeoutError:
            log.info("A visitor from %s sent no complete request in time", address)
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            pass
        finally:
            await _close(writer)

    async def _admit(self, head: http1.RequestHead) -> tuple[Host, Identity]:
        label = http1.host_label(head.get("Host"), self.host_suffix)
        host = self.registry.hosts.get(label) if label else None

        if host is None:
            raise RefusedError(404, "There is no tunnel at this address.")

        who = await self._visitor(head, host)
        session = self.registry.live(host)

        if session is None and host.system_id not in self.registry.all_stopped:
            raise RefusedError(
                502,
                "The system this tunnel belongs to is not connected to CloudLink "
                "right now. Try again later.",
            )

        if session is None or (host.component, host.name) not in session.started:
            raise RefusedError(
                502,
                f"The tunnel {host.component}/{host.name} is stopped. Start it from "
                "the system's CloudLink dashboard.",
            )

        return host, who

    async def _enter(self, head: http1.RequestHead, code: str) -> bytes:
        label = http1.host_label(head.get("Host"), self.host_suffix)
        host = self.registry.hosts.get(label) if label else None

        if host is None:
            raise RefusedError(404, "There is no tunnel at this address.")

        try:
            token = await self.authority.redeem(code, host.label)
            who = await self.authority.visitor(token)
        except AuthError as exc:
            raise RefusedError(
                401, f"The CloudLink sign-in was refused: {exc}."
            ) from None

        if who.account_id != host.account_id:
            raise RefusedError(401, "This system belongs to another CloudLink account.")

        cookie = entry.visitor_cookie(
            COOKIE, token, who.expires - time.time(), self.secure_cookie
        )
        return entry.welcome(cookie)

    async def _visitor(self, head: http1.RequestHead, host: Host) -> Identity:
        token = http1.bearer_token(head, COOKIE)

        if token is None:
            raise RefusedError(401, "Sign in to CloudLink to reach this system.")

        try:
            who = await self.authority.visitor(token)
        except AuthError as exc:
            raise RefusedError(
                401, f"The CloudLink sign-in was refused: {exc}."
            ) from None

        if who.account_id != host.account_id:
            raise RefusedError(401, "This system belongs to another CloudLink account.")

        return who

    async def _forward(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        buffer: bytearray,
        head: http1.RequestHead,
        host: Host,
        who: Identity,
        address: str,
    ) -> None:
        session = self.registry.live(host)
        assert session is not None
        visitor = Visitor(who.user_id, who.account_id, address)
        request = Open(host.component, host.name, visitor)

        try:
            stream = session.connection.open_stream(request.frame)
        except StreamResetError as exc:
            raise RefusedError(
                502, f"The tunnel cannot take more visitors: {exc}"
            ) from None

        self.metrics.streams.inc()
        refused: list[bytes] = []
        down = asyncio.create_task(
            self._downstream(stream, writer, time.monotonic(), refused)
        )

        try:
            await self._upstream(reader, buffer, head, host, stream, address)
        except (http1.HttpError, RefusedError) as exc:
            log.info("Closed a visitor connection from %s: %s", address, exc)
            refused.append(pages.response(exc.status, exc.message))
            stream.reset("the visitor's request was refused")
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            stream.reset("the visitor went away")
        except StreamResetError:
            pass

        with contextlib.suppress(asyncio.CancelledError):
            await down

    async def _upstream(
        self,
        reader: asyncio.StreamReader,
        buffer: bytearray,
        head: http1.RequestHead,
        host: Host,
        stream: Stream,
        address: str,
    ) -> None:
        current: http1.RequestHead | None = head

        while current is not None:
            framing = http1.framing(current)
            http1.strip_credentials(current, COOKIE)
            current.headers.append(("X-Forwarded-For", address))
            await self._send(stream, current.encode())

            if framing.kind == "length":
                await self._copy_length(reader, buffer, stream, framing.length)
            elif framing.kind == "chunked":
                await self._copy_chunked(reader, buffer, stream)
            elif framing.upgrade:
                await self._copy_rest(reader, buffer, stream)
                return

            if stream.reset_reason is not None:
                return

            current = await _read_head(reader, buffer, timeout=None)

            if current is not None:
                await self._readmit(current, host)

        await stream.finish()

    async def _readmit(self, head: http1.RequestHead, host: Host) -> None:
        # A connection is bound to its first request's host; a request for
        # another one, or with a token no longer good, ends the connection.
        label = http1.host_label(head.get("Host"), self.host_suffix)

        if label != host.label:
            raise RefusedError(
                421, "A request for another host on the same connection."
            )

        await self._visitor(head, host)

    async def _send(self, stream: Stream, data: bytes) -> None:
        await stream.write(data)
        self.metrics.bytes.labels("to_daemon").inc(len(data))

    async def _copy_length(
        self,
        reader: asyncio.StreamReader,
        buffer: bytearray,
        stream: Stream,
        length: int,
    ) -> None:
        while length:
            if buffer:
                data = bytes(buffer[:length])
                del buffer[: len(data)]
            else:
                data = await reader.read(min(length, READ_SIZE))

                if not data:
                    raise asyncio.IncompleteReadError(b"", length)

            length -= len(data)
            await self._send(stream, data)

    async def _copy_chunked(
        self, reader: asyncio.StreamReader, buffer: bytearray, stream: Stream
    ) -> None:
        while True:
            line = await _read_line(reader, buffer)
            size = http1.chunk_size(line[:-2])
            await self._send(stream, line)

            if size == 0:
                break

            await self._copy_length(reader, buffer, stream, size)

            if await _read_line(reader, buffer) != b"\r\n":
                raise http1.HttpError(400, "A chunk is not followed by CRLF.")

            await self._send(stream, b"\r\n")

        while True:
            line = await _read_line(reader, buffer)
            await self._send(stream, line)

            if line == b"\r\n":
                return

    async def _copy_rest(
        self, reader: asyncio.StreamReader, buffer: bytearray, stream: Stream
    ) -> None:
        if buffer:
            await self._send(stream, bytes(buffer))
            buffer.clear()

        while data := await reader.read(READ_SIZE):
            await self._send(stream, data)

        await stream.finish()

    async def _downstream(
        self,
        stream: Stream,
        writer: asyncio.StreamWriter,
        started: float,
        refused: list[bytes],
    ) -> None:
        received = False

        try:
            while data := await stream.read():
                if not received:
                    self.metrics.open_latency.observe(time.monotonic() - started)
                    received = True

                writer.write(data)
                await writer.drain()
                stream.consumed(len(data))
                self.metrics.bytes.labels("to_visitor").inc(len(data))
        except StreamResetError as exc:
            if refused and not received:
                writer.write(refused[0])
            elif not received:
                self.metrics.refusals.labels("502").inc()
                writer.write(pages.response(502, _unavailable(str(exc))))
            else:
                writer.transport.abort()
        except (ConnectionError, OSError):
            stream.reset("the visitor went away")

        await _close(writer)


def _unavailable(reason: str) -> str:
    detail = reason.removeprefix("reset by the peer: ")
    return f"The system could not open this tunnel: {detail}."


async def _read_head(
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


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()

    try:
        await asyncio.wait_for(writer.wait_closed(), 1.0)
    except TimeoutError:
        writer.transport.abort()
    except (ConnectionError, OSError):
        pass
