"""One visitor stream: checked against the catalog, then piped to the local
interface and back, counted in the metrics and the access log."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import ssl
import time

from services.tunnel.access import AccessEntry, AccessLog
from services.tunnel.board import Board
from services.tunnel.catalog import CatalogTunnel, Key
from services.tunnel.dial import open_local
from services.tunnel.local import LocalLink
from services.tunnel.messages import Open, parse_open
from services.tunnel.metrics import TunnelMetrics
from services.tunnel.mux import Stream, StreamResetError
from services.tunnel.wire import Frame, Payload, ProtocolError

log = logging.getLogger(__name__)

_STATUS_LINE = re.compile(rb"HTTP/1\.[01] ([1-5])([0-9]{2})[ \r]")


def status_of(first: bytes | memoryview) -> str:
    """The status of the answer starting with ``first``, e.g. "200"."""

    match = _STATUS_LINE.match(first)
    return (match.group(1) + match.group(2)).decode() if match else ""


class StreamServer:
    """Serves the streams the relay opens, for started tunnels only."""

    def __init__(
        self,
        board: Board,
        metrics: TunnelMetrics,
        access_log: AccessLog,
    ) -> None:
        self.board = board
        self.metrics = metrics
        self.access_log = access_log
        self.tasks: set[asyncio.Task[None]] = set()
        self._open: dict[Stream, Key] = {}

    def on_open(self, stream: Stream, frame: Frame) -> None:
        """Starts serving a stream the relay opened."""

        task = asyncio.get_running_loop().create_task(self.serve(stream, frame))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def serve(self, stream: Stream, frame: Frame) -> None:
        """Checks the request, connects locally and pipes both ways."""

        tunnel, request = self._admit(stream, frame)

        if tunnel is None or request is None:
            return

        visitor = request.visitor
        entry = self.access_log.add(
            AccessEntry(
                tunnel.component,
                tunnel.name,
                visitor.user_id,
                visitor.account_id,
                visitor.address,
            )
        )
        started = time.monotonic()

        try:
            local = await open_local(tunnel.target)
        except (OSError, TimeoutError, ssl.SSLError) as exc:
            reason = f"the local interface {tunnel.local_address} cannot be reached"
            log.warning(
                "Stream %d: %s: %s",
                stream.id,
                reason,
                exc,
                extra={"stream": stream.id, "component": tunnel.component},
            )
            stream.reset(reason)
            entry.status = "unreachable"
            self.metrics.requests.labels(*tunnel.key, "error").inc()
            return

        self.metrics.open_latency.observe(time.monotonic() - started)
        self.board.stream_opened(tunnel.key)
        self._open[stream] = tunnel.key

        try:
            await self._pipe(stream, local, tunnel, entry)
        finally:
            del self._open[stream]
            self.board.stream_closed(tunnel.key)
            entry.duration = round(time.monotonic() - started, 3)

            if entry.status == "open":
                entry.status = "no answer"

            local.close()

            with contextlib.suppress(OSError, ssl.SSLError, TimeoutError):
                await asyncio.wait_for(local.wait_closed(), 1.0)

    def reset_tunnels(self, keys: frozenset[Key]) -> None:
        """Ends the visitor connections of tunnels just stopped."""

        for stream, key in list(self._open.items()):
            if key in keys:
                stream.reset("the tunnel was stopped")

    def _admit(
        self, stream: Stream, frame: Frame
    ) -> tuple[CatalogTunnel | None, Open | None]:
        try:
            request = parse_open(frame)
        except ProtocolError as exc:
            self._refuse(stream, f"a malformed request: {exc}")
            return None, None

        tunnel = self.board.catalog.get((request.component, request.name))

        if tunnel is None:
            self._refuse(
                stream,
                f"{request.component}/{request.name} is not a tunnel of this "
                "system's platform profile",
            )
            return None, None

        if tunnel.key not in self.board.desired():
            self._refuse(
                stream, f"the tunnel {tunnel.component}/{tunnel.name} is stopped"
            )
            return None, None

        return tunnel, request

    def _refuse(self, stream: Stream, reason: str) -> None:
        log.warning(
            "Refused stream %d from the relay: %s",
            stream.id,
            reason,
            extra={"stream": stream.id},
        )
        self.metrics.streams_refused.inc()
        stream.reset(f"refused: {reason}")

    async def _pipe(
        self,
        stream: Stream,
        local: LocalLink,
        tunnel: CatalogTunnel,
        entry: AccessEntry,
    ) -> None:
        inbound = self.metrics.bytes_in.labels(*tunnel.key)
        outbound = self.metrics.bytes_out.labels(*tunnel.key)

        def take(data: Payload) -> bool:
            if not local.writable:
                return False

            local.write(data)
            entry.bytes_in += len(data)
            inbound.inc(len(data))
            return True

        stream.deliver_to(take)

        # The first answer is read below for its status; later reads go out
        # as they arrive, unless one is still on its way there.
        answered = False
        sending = False

        def send(data: bytes | memoryview) -> bool:
            if not answered or sending or not stream.try_write(data):
                return False

            entry.bytes_out += len(data)
            outbound.inc(len(data))
            return True

        local.forward = send

        async def to_local() -> None:
            while data := await stream.read():
                local.write(data)
                await local.drain()
                stream.consumed(len(data))
                entry.bytes_in += len(data)
                inbound.inc(len(data))

            if local.can_write_eof():
                with contextlib.suppress(OSError):
                    local.write_eof()

        async def to_relay() -> None:
            nonlocal answered, sending

            while data := await local.read():
                if not answered:
                    status = status_of(data)
                    entry.status = status or "not http"
                    code = f"{status[0]}xx" if status else "other"
                    self.metrics.requests.labels(*tunnel.key, code).inc()
                    answered = True

                sending = True

                try:
                    await stream.write(data)
                finally:
                    sending = False

                entry.bytes_out += len(data)
                outbound.inc(len(data))

            await stream.finish()

        tasks = [asyncio.create_task(to_local()), asyncio.create_task(to_relay())]

        try:
            await asyncio.gather(*tasks)
        except (StreamResetError, OSError, ssl.SSLError) as exc:
            stream.reset(f"the local connection ended: {exc}")

            for task in tasks:
                task.cancel()

            await asyncio.gather(*tasks, return_exceptions=True)
