"""Which daemons are connected, and which public host leads to which tunnel.

Every host a daemon ever announced is remembered on disk, so a visitor to
a known host whose daemon is offline gets "unavailable" (502), and only a
host no daemon ever announced is "not found" (404). A host is bound to the
system it was derived from, so no other system can ever answer for it.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

from services.common.state import StateStore
from services.tunnel import mux
from services.tunnel.messages import TunnelEntry, public_label

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Host:
    """A public host: the tunnel of one system it leads to."""

    label: str
    system_id: str
    account_id: str
    component: str
    name: str


@dataclass
class DaemonSession:
    """One daemon's live connection."""

    session_id: str
    system_id: str
    account_id: str
    user_id: str
    sid: str
    token_expires: float
    connection: mux.Connection
    started: set[tuple[str, str]] = field(default_factory=set)


class Registry:
    """Live sessions by system, and known hosts by label."""

    def __init__(self, path: Path) -> None:
        self._store = StateStore(path, mode=0o600)
        document = self._store.load() or {}
        self.hosts: dict[str, Host] = {}

        for item in document.get("hosts", []):
            try:
                host = Host(**item)
            except TypeError:
                log.warning("Ignoring a malformed host record in %s", path)
                continue

            self.hosts[host.label] = host

        self.sessions: dict[str, DaemonSession] = {}
        # Systems whose daemon left because it had no tunnel started.
        self.all_stopped: set[str] = set()

    def attach(self, session: DaemonSession) -> DaemonSession | None:
        """Makes ``session`` its system's live one; returns the one it replaces."""

        old = self.sessions.get(session.system_id)
        self.sessions[session.system_id] = session
        self.all_stopped.discard(session.system_id)
        return old

    def detach(self, session: DaemonSession, all_stopped: bool) -> None:
        """Forgets ``session`` unless a newer one already replaced it."""

        if self.sessions.get(session.system_id) is session:
            del self.sessions[session.system_id]

            if all_stopped:
                self.all_stopped.add(session.system_id)

    def announce(
        self, session: DaemonSession, tunnels: tuple[TunnelEntry, ...]
    ) -> None:
        """Takes a daemon's tunnel list: its hosts, and which are started."""

        session.started = {t.key for t in tunnels if t.started}
        added = False

        for tunnel in tunnels:
            label = public_label(session.system_id, tunnel.component, tunnel.name)
            host = Host(
                label,
                session.system_id,
                session.account_id,
                tunnel.component,
                tunnel.name,
            )

            if self.hosts.get(label) != host:
                self.hosts[label] = host
                added = True

        if added:
            self._store.save({"hosts": [asdict(h) for h in self.hosts.values()]})

    def live(self, host: Host) -> DaemonSession | None:
        """The live session that answers for ``host``, if any."""

        return self.sessions.get(host.system_id)

    @property
    def started_count(self) -> int:
        """How many tunnels are started across live sessions."""

        return sum(len(s.started) for s in self.sessions.values())

    @property
    def stream_count(self) -> int:
        """How many visitor streams are open across live sessions."""

        return sum(len(s.connection.streams) for s in self.sessions.values())
