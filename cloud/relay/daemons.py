"""The daemon-facing endpoint: TLS, hello, authentication, session upkeep."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid

from cloud.relay.auth import AuthError, Authority
from cloud.relay.metrics import RelayMetrics
from cloud.relay.registry import DaemonSession, Registry
from services.tunnel import messages, wire
from services.tunnel.link import FrameLink
from services.tunnel.mux import Connection
from services.tunnel.wire import Frame, Kind, ProtocolError

log = logging.getLogger(__name__)

# A daemon that connects must say who it is promptly; a silent connection
# only ties up a socket.
HELLO_TIMEOUT = 10.0


class DaemonEndpoint:
    """Accepts daemon connections and keeps their sessions in the registry."""

    def __init__(
        self,
        registry: Registry,
        authority: Authority,
        metrics: RelayMetrics,
        *,
        heartbeat: float,
        idle_timeout: float,
        public_url: str,
    ) -> None:
        self.registry = registry
        self.authority = authority
        self.metrics = metrics
        self.heartbeat = heartbeat
        self.idle_timeout = idle_timeout
        self.public_url = public_url
        self._tasks: set[asyncio.Task[None]] = set()

    def accept(self, link: FrameLink) -> None:
        """Starts serving a daemon connection just made (TLS done)."""

        task = asyncio.get_running_loop().create_task(self.handle(link))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def handle(self, link: FrameLink) -> None:
        """Serves one daemon connection until it ends."""

        peer = _peer(link)
        connection = Connection(link, opener=True)

        try:
            session = await self._admit(connection, peer)
        except (TimeoutError, ProtocolError, AuthError) as exc:
            reason = str(exc) or "no hello in time"
            log.warning("Refused a daemon from %s: %s", peer, reason)
            self.metrics.sessions.labels("refused").inc()
            connection.send_nowait(wire.text_frame(Kind.GOAWAY, reason))
            await connection.close(reason)
            return
        except (asyncio.IncompleteReadError, ConnectionError, OSError) as exc:
            log.info("A daemon from %s left before its hello: %s", peer, exc)
            await connection.close("closed before hello")
            return

        watchdog = asyncio.create_task(self._watch(session))
        reason = await connection.serve()
        watchdog.cancel()
        self.registry.detach(session, reason.endswith(messages.NO_TUNNELS))
        log.info(
            "Daemon of system %s disconnected: %s",
            session.system_id,
            reason,
            extra={"system_id": session.system_id, "session": session.session_id},
        )

    async def _admit(self, connection: Connection, peer: str) -> DaemonSession:
        frame = await asyncio.wait_for(connection.read_frame(), HELLO_TIMEOUT)
        hello = messages.parse_hello(frame)
        who = await self.authority.verify(hello.token)
        account = await self.authority.owner_account(hello.token, who, hello.system_id)
        session = DaemonSession(
            session_id=uuid.uuid4().hex,
            system_id=hello.system_id,
            account_id=account,
            user_id=who.user_id,
            sid=who.sid,
            token_expires=who.expires,
            connection=connection,
        )
        connection.on_control = lambda f: self._control(session, f)
        old = self.registry.attach(session)

        if old is not None:
            # The daemon reconnected before its old connection was found
            # dead; the newer one is the truth.
            self.metrics.sessions.labels("replaced").inc()
            old.connection.send_nowait(
                wire.text_frame(Kind.GOAWAY, "replaced by a newer connection")
            )
            await old.connection.close("replaced by a newer connection")

        self.registry.announce(session, hello.tunnels)
        welcome = messages.Welcome(session.session_id, self.public_url, self.heartbeat)
        await connection.send(welcome.frame())
        self.metrics.sessions.labels("accepted").inc()
        log.info(
            "Daemon of system %s connected from %s with %d tunnels, %d started",
            session.system_id,
            peer,
            len(hello.tunnels),
            len(session.started),
            extra={
                "system_id": session.system_id,
                "session": session.session_id,
                "agent": hello.agent,
            },
        )
        return session

    async def _control(self, session: DaemonSession, frame: Frame) -> None:
        if frame.kind is Kind.TUNNELS:
            self.registry.announce(session, messages.parse_tunnels(frame))
            log.info(
                "System %s now has %d tunnels started",
                session.system_id,
                len(session.started),
                extra={"system_id": session.system_id},
            )
        elif frame.kind is Kind.TOKEN:
            await self._renew(session, messages.parse_token(frame))
        elif frame.kind is not Kind.PONG:
            raise ProtocolError(f"{frame.kind.name} is not expected from a daemon")

    async def _renew(self, session: DaemonSession, token: str) -> None:
        try:
            who = await self.authority.verify(token)
            await self.authority.owner_account(token, who, session.system_id)
        except AuthError as exc:
            raise ProtocolError(f"a renewed token was refused: {exc}") from None

        session.token_expires = who.expires

    async def _watch(self, session: DaemonSession) -> None:
        connection = session.connection

        while not connection.closed.is_set():
            await asyncio.sleep(min(1.0, self.heartbeat))
            silent = time.monotonic() - connection.last_received

            if silent > self.idle_timeout:
                reason = f"heartbeat timeout after {silent:.0f}s of silence"
            elif time.time() > session.token_expires:
                reason = "the access token expired and was not renewed"
            else:
                continue

            log.warning(
                "Closing the connection of system %s: %s",
                session.system_id,
                reason,
                extra={"system_id": session.system_id},
            )

            with contextlib.suppress(ConnectionError, OSError):
                connection.send_nowait(wire.text_frame(Kind.GOAWAY, reason))

            await connection.close(reason)


def _peer(link: FrameLink) -> str:
    peer = link.transport.get_extra_info("peername") if link.transport else None
    return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
