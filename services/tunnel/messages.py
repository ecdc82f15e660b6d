"""The control messages of the relay protocol, parsed and checked.

Each message is a JSON object in a frame of its kind. Parsing is strict
about types and sizes, so a peer can only ever be refused, never make the
other side misbehave.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from services.tunnel.wire import VERSION, Frame, Kind, ProtocolError, control

# Component and tunnel names come from platform profiles: short identifiers.
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
MAX_TUNNELS = 256

# The GOAWAY reason of a daemon that disconnects because no tunnel is
# started: the relay then says "stopped" rather than "offline".
NO_TUNNELS = "no tunnel is started"

# Fixed forever: the public host of a tunnel is derived from it, and a host
# that changed would break every bookmark of a system's interfaces.
PUBLIC_NAMESPACE = uuid.UUID("6b1d3c1e-5b7a-4f0e-9a3c-2f0c1d7e8a41")


def public_label(system_id: str, component: str, name: str) -> str:
    """The first label of a tunnel's public host, stable for a system."""

    return str(uuid.uuid5(PUBLIC_NAMESPACE, f"{system_id}/{component}/{name}"))


def valid_name(value: object) -> bool:
    """True for a component or tunnel name as profiles write them."""

    return isinstance(value, str) and _NAME.fullmatch(value) is not None


@dataclass(frozen=True)
class TunnelEntry:
    """One tunnel of the daemon's list, as the relay learns it."""

    component: str
    name: str
    started: bool

    @property
    def key(self) -> tuple[str, str]:
        """The tunnel's identity on one system."""

        return (self.component, self.name)


@dataclass(frozen=True)
class Hello:
    """The daemon's first frame: who it is and which tunnels it has."""

    token: str
    system_id: str
    tunnels: tuple[TunnelEntry, ...]
    agent: str = ""

    def frame(self) -> Frame:
        """The HELLO frame."""

        return control(
            Kind.HELLO,
            {
                "version": VERSION,
                "token": self.token,
                "systemId": self.system_id,
                "agent": self.agent,
                "tunnels": tunnels_body(self.tunnels),
            },
        )


@dataclass(frozen=True)
class Welcome:
    """The relay's answer to a good HELLO."""

    session_id: str
    public_url: str
    heartbeat: float

    def frame(self) -> Frame:
        """The WELCOME frame."""

        return control(
            Kind.WELCOME,
            {
                "sessionId": self.session_id,
                "publicUrl": self.public_url,
                "heartbeat": self.heartbeat,
            },
        )

    def url_of(self, label: str) -> str:
        """The public URL of the tunnel whose host starts with ``label``."""

        return self.public_url.replace("{label}", label)


@dataclass(frozen=True)
class Visitor:
    """Who a stream was opened for, as the relay found in their token."""

    user_id: str
    account_id: str
    address: str


@dataclass(frozen=True)
class Open:
    """A visitor connection to one of the daemon's tunnels.

    It names a tunnel, never an address: the daemon alone knows where its
    tunnels lead, from its platform profile.
    """

    component: str
    name: str
    visitor: Visitor

    def frame(self, stream_id: int) -> Frame:
        """The OPEN frame for ``stream_id``."""

        return control(
            Kind.OPEN,
            {
                "component": self.component,
                "name": self.name,
                "visitor": {
                    "userId": self.visitor.user_id,
                    "accountId": self.visitor.account_id,
                    "address": self.visitor.address,
                },
            },
            stream_id,
        )


def tunnels_body(tunnels: tuple[TunnelEntry, ...]) -> list[dict[str, Any]]:
    """The tunnel list as HELLO and TUNNELS carry it."""

    return [
        {"component": t.component, "name": t.name, "started": t.started}
        for t in tunnels
    ]


def tunnels_frame(tunnels: tuple[TunnelEntry, ...]) -> Frame:
    """A TUNNELS frame: the daemon's current list."""

    return control(Kind.TUNNELS, {"tunnels": tunnels_body(tunnels)})


def token_frame(token: str) -> Frame:
    """A TOKEN frame: a fresh access token for a session."""

    return control(Kind.TOKEN, {"token": token})


def parse_hello(frame: Frame) -> Hello:
    """The HELLO in ``frame``."""

    _expect(frame, Kind.HELLO)
    body = frame.json()

    if body.get("version") != VERSION:
        raise ProtocolError(
            f"protocol version {body.get('version')!r} is not {VERSION}"
        )

    return Hello(
        token=_text(body, "token", 8192),
        system_id=_text(body, "systemId", 128),
        tunnels=parse_tunnel_list(body.get("tunnels")),
        agent=_text(body, "agent", 128, required=False),
    )


def parse_tunnels(frame: Frame) -> tuple[TunnelEntry, ...]:
    """The tunnel list in a TUNNELS frame."""

    _expect(frame, Kind.TUNNELS)
    return parse_tunnel_list(frame.json().get("tunnels"))


def parse_token(frame: Frame) -> str:
    """The access token in a TOKEN frame."""

    _expect(frame, Kind.TOKEN)
    return _text(frame.json(), "token", 8192)


def parse_tunnel_list(value: object) -> tuple[TunnelEntry, ...]:
    """A tunnel list, each entry checked, no tunnel twice."""

    if not isinstance(value, list) or len(value) > MAX_TUNNELS:
        raise ProtocolError(f"tunnels must be a list of at most {MAX_TUNNELS}")

    entries: list[TunnelEntry] = []
    seen: set[tuple[str, str]] = set()

    for item in value:
        if not isinstance(item, dict):
            raise ProtocolError("a tunnel entry is not an object")

        component, name = item.get("component"), item.get("name")

        if not (valid_name(component) and valid_name(name)):
            raise ProtocolError("a tunnel entry has no valid component and name")

        if not isinstance(item.get("started"), bool):
            raise ProtocolError("a tunnel entry's started is not true or false")

        entry = TunnelEntry(str(component), str(name), bool(item["started"]))

        if entry.key in seen:
            raise ProtocolError(f"tunnel {component}/{name} is listed twice")

        seen.add(entry.key)
        entries.append(entry)

    return tuple(entries)


def parse_welcome(frame: Frame) -> Welcome:
    """The WELCOME in ``frame``."""

    _expect(frame, Kind.WELCOME)
    body = frame.json()
    heartbeat = body.get("heartbeat")

    if not isinstance(heartbeat, int | float) or not 0 < heartbeat <= 3600:
        raise ProtocolError("heartbeat must be a number of seconds")

    return Welcome(
        session_id=_text(body, "sessionId", 128),
        public_url=_text(body, "publicUrl", 512),
        heartbeat=float(heartbeat),
    )


def parse_open(frame: Frame) -> Open:
    """The OPEN in ``frame``; an OPEN that names an address is refused."""

    _expect(frame, Kind.OPEN)
    body = frame.json()
    extra = set(body) - {"component", "name", "visitor"}

    if extra:
        raise ProtocolError(f"OPEN carries unexpected fields {sorted(extra)}")

    visitor = body.get("visitor")

    if not isinstance(visitor, dict):
        raise ProtocolError("OPEN without a visitor")

    component, name = body.get("component"), body.get("name")

    if not (valid_name(component) and valid_name(name)):
        raise ProtocolError("OPEN without a valid component and name")

    return Open(
        component=str(component),
        name=str(name),
        visitor=Visitor(
            user_id=_text(visitor, "userId", 128, required=False),
            account_id=_text(visitor, "accountId", 128, required=False),
            address=_text(visitor, "address", 128, required=False),
        ),
    )


def _expect(frame: Frame, kind: Kind) -> None:
    if frame.kind is not kind:
        raise ProtocolError(f"expected {kind.name}, got {frame.kind.name}")


def _text(body: dict[str, Any], key: str, limit: int, required: bool = True) -> str:
    value = body.get(key, None if required else "")

    if not isinstance(value, str) or len(value) > limit:
        raise ProtocolError(f"{key} must be text of at most {limit} characters")

    if required and not value:
        raise ProtocolError(f"{key} is empty")

    return value
