"""The one connection to the relay that carries every started tunnel.

The agent runs an asyncio loop in its own thread. While any tunnel is
started it keeps a connection to the relay: it says hello with the access
token from the registration service, sends heartbeats, tells the relay
whenever the tunnel list changes, renews its token, and serves the streams
the relay opens. A lost connection is made again with jittered backoff;
with no tunnel started, it keeps none.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import ssl
import threading
import time

from services.common.config import Config
from services.tunnel import messages, polling, wire
from services.tunnel.backoff import retry_delay
from services.tunnel.board import FAILED, STARTED, STARTING, Board
from services.tunnel.dial import DialError, open_relay, parse_proxy, relay_context
from services.tunnel.messages import TunnelEntry, Welcome, public_label
from services.tunnel.metrics import TunnelMetrics
from services.tunnel.mux import Connection, StreamResetError
from services.tunnel.streams import StreamServer
from services.tunnel.tokens import Credentials, NotReadyError, TokenSource
from services.tunnel.wire import Kind, ProtocolError

log = logging.getLogger(__name__)

IDLE = "idle"
CONNECTING = "connecting"
CONNECTED = "connected"
RETRYING = "retrying"

WELCOME_TIMEOUT = 15.0
TOKEN_CHECK = 30.0
AGENT = f"cloudlink-daemon tunnel pid {os.getpid()}"


class SessionEndedError(Exception):
    """The session with the relay ended on purpose."""


class Agent:
    """Keeps the relay connection as the started tunnels need it."""

    def __init__(
        self,
        config: Config,
        board: Board,
        tokens: TokenSource,
        metrics: TunnelMetrics,
        streams: StreamServer,
        proxy: str = "",
    ) -> None:
        self.config = config
        self.board = board
        self.tokens = tokens
        self.metrics = metrics
        self.streams = streams
        self.relay_state = IDLE
        self.relay_error = ""
        self._host, _, port = config.tunnel_relay.rpartition(":")
        self._host = self._host.strip("[]")
        self._port = int(port)
        self._proxy = parse_proxy(proxy)
        self._loop = polling.new_event_loop(config.tunnel_busy_poll_us / 1e6)
        self._changed = asyncio.Event()
        self._stopping = asyncio.Event()
        self._thread = threading.Thread(target=self._run, name="relay", daemon=True)

    def start(self) -> None:
        """Starts the agent's thread."""

        self._thread.start()

    def stop(self, timeout: float = 3.0) -> None:
        """Closes the connection and ends the thread."""

        self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(timeout)

    def notify(self) -> None:
        """Tells the agent the desired tunnels changed; safe from any thread."""

        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._changed.set)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        try:
            self._loop.run_until_complete(self._main())
        finally:
            self._loop.close()

    async def _main(self) -> None:
        failures = 0
        stopper = asyncio.create_task(self._stopping.wait())

        while not self._stopping.is_set():
            self._changed.clear()
            desired = self.board.desired()

            if not desired:
                self._set_relay(IDLE)
                await self._wait_change(None)
                continue

            self._set_relay(CONNECTING)
            self.board.mark(desired, STARTING, "Connecting to the relay")

            try:
                credentials = await asyncio.to_thread(self.tokens.get)
                connection, welcome = await self._connect(credentials)
            except (NotReadyError, DialError, ProtocolError, ConnectionError) as exc:
                failures += 1
                delay = retry_delay(failures, self.config.tunnel_retry_max)
                self._retrying(str(exc), delay)
                await self._wait_change(delay)
                continue
            except asyncio.IncompleteReadError:
                failures += 1
                delay = retry_delay(failures, self.config.tunnel_retry_max)
                self._retrying("the relay closed the connection", delay)
                await self._wait_change(delay)
                continue

            failures = 0
            session = asyncio.create_task(
                self._session(connection, welcome, credentials)
            )
            done, _ = await asyncio.wait(
                {session, stopper}, return_when=asyncio.FIRST_COMPLETED
            )

            if stopper in done:
                await connection.close("the tunnel service is stopping")
                await asyncio.gather(session, return_exceptions=True)
                break

            reason = session.result()
            self.metrics.relay_connected.set(0)

            if not self.board.desired():
                continue

            self.metrics.reconnects.inc()
            failures = 1
            delay = retry_delay(failures, self.config.tunnel_retry_max)
            self._retrying(f"the relay connection was lost: {reason}", delay)
            await self._wait_change(delay)

        self.metrics.relay_connected.set(0)
        stopper.cancel()

        for task in list(self.streams.tasks):
            task.cancel()

    async def _connect(self, credentials: Credentials) -> tuple[Connection, Welcome]:
        # Read at each attempt: in process mode the relay makes its certificate
        # when it first starts, which may be after this service.
        try:
            tls = relay_context(self.config.tunnel_relay_ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise DialError(
                f"the relay CA file {self.config.tunnel_relay_ca_file} cannot be "
                f"used: {exc}"
            ) from None

        link = await open_relay(self._host, self._port, tls, self._proxy)
        connection = Connection(link, opener=False, on_open=self.streams.on_open)

        try:
            hello = messages.Hello(
                credentials.token,
                credentials.system_id,
                self._entries(self.board.desired()),
                AGENT,
            )
            await connection.send(hello.frame())
            frame = await asyncio.wait_for(connection.read_frame(), WELCOME_TIMEOUT)

            if frame.kind is Kind.GOAWAY:
                raise DialError(f"the relay refused this system: {frame.text()}")

            return connection, messages.parse_welcome(frame)
        except BaseException:
            await connection.close("hello failed")
            raise

    async def _session(
        self, connection: Connection, welcome: Welcome, credentials: Credentials
    ) -> str:
        system_id = credentials.system_id
        log.info(
            "Connected to the relay %s:%s",
            self._host,
            self._port,
            extra={"session": welcome.session_id},
        )
        self._set_relay(CONNECTED)
        self.metrics.relay_connected.set(1)
        announced = self.board.desired()
        self._mark_started(announced, welcome, system_id)
        helpers = [
            asyncio.create_task(self._heartbeat(connection, welcome.heartbeat)),
            asyncio.create_task(
                self._follow(connection, welcome, system_id, announced)
            ),
            asyncio.create_task(self._renew(connection, credentials.token)),
        ]

        try:
            reason = await connection.serve()
        finally:
            for task in helpers:
                task.cancel()

            await asyncio.gather(*helpers, return_exceptions=True)

        log.warning("The relay connection ended: %s", reason)
        return reason

    async def _heartbeat(self, connection: Connection, interval: float) -> None:
        dead_after = self.config.tunnel_dead_after
        counter = 0

        while not connection.closed.is_set():
            counter += 1
            connection.send_nowait(wire.Frame(Kind.PING, 0, counter.to_bytes(8, "big")))
            await asyncio.sleep(min(interval, dead_after / 3))
            silent = time.monotonic() - connection.last_received

            if silent > dead_after:
                log.warning("No word from the relay for %.0fs; reconnecting", silent)
                await connection.close(f"heartbeat timeout after {silent:.0f}s")
                return

    async def _follow(
        self,
        connection: Connection,
        welcome: Welcome,
        system_id: str,
        announced: frozenset[tuple[str, str]],
    ) -> None:
        idle_stop = self.config.tunnel_idle_stop
        version = self.board.version

        while not connection.closed.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), 1.0)

            self._changed.clear()

            if idle_stop > 0:
                for key in self.board.idle(idle_stop):
                    log.info("Tunnel %s/%s idle for %ss; stopping it", *key, idle_stop)
                    self.board.stop(
                        key, f"Stopped after {idle_stop}s without visitors."
                    )

            desired = self.board.desired()

            if desired == announced and self.board.version == version:
                continue

            version = self.board.version

            if not desired:
                connection.send_nowait(
                    wire.text_frame(Kind.GOAWAY, messages.NO_TUNNELS)
                )
                await connection.close(messages.NO_TUNNELS)
                return

            await connection.send(messages.tunnels_frame(self._entries(desired)))
            self.streams.reset_tunnels(announced - desired)
            self._mark_started(desired - announced, welcome, system_id)
            announced = desired

    async def _renew(self, connection: Connection, token: str) -> None:
        while not connection.closed.is_set():
            await asyncio.sleep(TOKEN_CHECK)

            try:
                credentials = await asyncio.to_thread(self.tokens.get)
            except NotReadyError as exc:
                log.warning("Cannot renew the relay token: %s", exc)
                continue

            if credentials.token != token:
                token = credentials.token

                with contextlib.suppress(StreamResetError):
                    await connection.send(messages.token_frame(token))

    def _entries(self, desired: frozenset[tuple[str, str]]) -> tuple[TunnelEntry, ...]:
        return tuple(
            TunnelEntry(t.component, t.name, t.key in desired)
            for t in self.board.catalog.tunnels
        )

    def _mark_started(
        self, keys: frozenset[tuple[str, str]], welcome: Welcome, system_id: str
    ) -> None:
        for tunnel in self.board.catalog.tunnels:
            label = public_label(system_id, tunnel.component, tunnel.name)
            self.board.set_public_url(tunnel.key, welcome.url_of(label))

        self.board.mark(keys, STARTED)

    def _retrying(self, reason: str, delay: float) -> None:
        log.warning("Cannot reach the relay: %s; retrying in %.1fs", reason, delay)
        self._set_relay(RETRYING, reason)
        self.board.mark(
            self.board.desired(),
            FAILED,
            f"The relay cannot be reached: {reason}. Retrying.",
        )

    def _set_relay(self, state: str, error: str = "") -> None:
        self.relay_state = state
        self.relay_error = error

    async def _wait_change(self, timeout: float | None) -> None:
        changed = asyncio.create_task(self._changed.wait())
        stopping = asyncio.create_task(self._stopping.wait())
        await asyncio.wait(
            {changed, stopping}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        changed.cancel()
        stopping.cancel()
