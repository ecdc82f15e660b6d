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

from cloud.relay import bodies, entry, http1, pages
from cloud.relay.auth import AuthError, Authority, Identity
from cloud.relay.metrics import RelayMetrics
from cloud.relay.registry import Host, Registry
from services.tunnel.messages import Open, Visitor
from services.tunnel.mux import Stream, StreamResetError
from services.tunnel.wire import MAX_DATA, Payload

log = logging.getLogger(__name__)

COOKIE = "cld_relay_token"
VISITOR_WRITE_HIGH = 4 * MAX_DATA


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
        self._to_daemon = metrics.bytes.labels("to_daemon")
        self._to_visitor = metrics.bytes.labels("to_visitor")

    async def handle(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Serves one visitor connection."""

        peer = writer.get_extra_info("peername")
        address = peer[0] if isinstance(peer, tuple) else ""
        buffer = bytearray()

        try:
            head = await bodies.read_head(reader, buffer)

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
            await bodies.close(writer)

    async def _admit(self, head: http1.RequestHead) -> tuple[Host, Identity]:
        label = http1.host_label(http1.host_of(head), self.host_suffix)
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
        label = http1.host_label(http1.host_of(head), self.host_suffix)
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

        async def send(data: bytes) -> None:
            await self._send(stream, data)

        while current is not None:
            framing = http1.framing(current)
            await self._send(stream, _outgoing(current, address))

            if framing.kind == "length":
                await bodies.copy_length(reader, buffer, send, framing.length)
            elif framing.kind == "chunked":
                await bodies.copy_chunked(reader, buffer, send)
            elif framing.upgrade:
                await bodies.copy_rest(reader, buffer, send)
                await stream.finish()
                return

            if stream.reset_reason is not None:
                return

            current = await self._next_head(reader, buffer, host, stream, address)

        await stream.finish()

    async def _next_head(
        self,
        reader: asyncio.StreamReader,
        buffer: bytearray,
        host: Host,
        stream: Stream,
        address: str,
    ) -> http1.RequestHead | None:
        passing = reader if isinstance(reader, bodies.VisitorReader) else None

        if passing is not None:
            passing.taker = self._taker(buffer, host, stream, address)

        try:
            head = await bodies.read_head(reader, buffer, timeout=None)
        finally:
            if passing is not None:
                passing.taker = None

        if head is not None:
            await self._readmit(head, host)

        return head

    def _taker(
        self, buffer: bytearray, host: Host, stream: Stream, address: str
    ) -> bodies.Taker:
        """Passes on a whole bodiless request that needs no waiting to admit.

        Anything else (part of a head, a body, a token not already checked,
        no credit left) is declined and takes the ordinary way, which also
        gives the refusals; only data that starts where the previous request
        ended is looked at, so requests are never taken apart.
        """

        def take(data: bytes) -> bool:
            if buffer or stream.reset_reason is not None:
                return False

            if http1.head_end(data) != len(data):
                return False

            try:
                head = http1.parse_head(data)
                label = http1.host_label(http1.host_of(head), self.host_suffix)

                if http1.framing(head) is not http1.NO_BODY:
                    return False
            except http1.HttpError:
                return False

            token = http1.bearer_token(head, COOKIE)
            who = self.authority.known_visitor(token) if token else None

            if label != host.label or who is None or who.account_id != host.account_id:
                return False

            outgoing = _outgoing(head, address)

            if not stream.try_write(outgoing):
                return False

            self._to_daemon.inc(len(outgoing))
            return True

        return take

    async def _readmit(self, head: http1.RequestHead, host: Host) -> None:
        # A connection is bound to its first request's host; a request for
        # another one, or with a token no longer good, ends the connection.
        label = http1.host_label(http1.host_of(head), self.host_suffix)

        if label != host.label:
            raise RefusedError(
                421, "A request for another host on the same connection."
            )

        await self._visitor(head, host)

    async def _send(self, stream: Stream, data: bytes) -> None:
        await stream.write(data)
        self._to_daemon.inc(len(data))

    async def _downstream(
        self,
        stream: Stream,
        writer: asyncio.StreamWriter,
        started: float,
        refused: list[bytes],
    ) -> None:
        received = False

        # What the visitor has not taken yet stays within the stream's window
        # (credit goes back only after the drain), so a few frames may wait
        # here rather than one, and fewer wake-ups are needed.
        transport = writer.transport
        transport.set_write_buffer_limits(high=VISITOR_WRITE_HIGH)

        def take(data: Payload) -> bool:
            # The first answer goes through the loop below, which times it.
            if (
                not received
                or transport.is_closing()
                or transport.get_write_buffer_size() > VISITOR_WRITE_HIGH
            ):
                return False

            transport.write(data)
            self._to_visitor.inc(len(data))
            return True

        stream.deliver_to(take)

        try:
            while data := await stream.read():
                if not received:
                    self.metrics.open_latency.observe(time.monotonic() - started)
                    received = True

                writer.write(data)
                await writer.drain()
                stream.consumed(len(data))
                self._to_visitor.inc(len(data))
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

        await bodies.close(writer)


def _outgoing(head: http1.RequestHead, address: str) -> bytes:
    """A visitor's request head as it goes down the tunnel."""

    http1.strip_credentials(head, COOKIE)
    head.headers.append(("X-Forwarded-For", address))
    return head.encode()


def _unavailable(reason: str) -> str:
    detail = reason.removeprefix("reset by the peer: ")
    return f"The system could not open this tunnel: {detail}."
