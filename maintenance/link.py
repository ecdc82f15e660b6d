"""Links a server's daemon to CloudLink through its registration service.

The registration service answers gRPC on a Unix socket in the runtime
volume. On a local server the tool reaches the socket in the volume's folder;
on a remote one, through an ssh forward of that socket.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from cld.v1 import registration_pb2 as pb
from cld.v1 import registration_pb2_grpc as pb_grpc

from maintenance import forward
from maintenance.engine import Engine
from maintenance.forward import ForwardError

SOCKET = "registration.sock"
CALL_TIMEOUT = 30.0
MAX_SOCKET_PATH = 100


class LinkError(RuntimeError):
    """The server could not be linked; the message says why in plain words."""


@dataclass(frozen=True)
class Credentials:
    """A CloudLink user's sign-in, held only in memory."""

    username: str
    password: str = field(repr=False)
    account_number: str = ""


@dataclass(frozen=True)
class LinkState:
    """Whether a server is linked, and to which account."""

    linked: bool
    account_name: str = ""
    account_number: str = ""
    system_id: str = ""
    changed: bool = False


def current(engine: Engine) -> LinkState:
    """The server's link as its registration service reports it."""

    with _stub(engine) as stub:
        reply = _ask(lambda: stub.GetLink(pb.GetLinkRequest(), timeout=CALL_TIMEOUT))

    return _state(reply)


def link(engine: Engine, credentials: Credentials) -> LinkState:
    """Links the server unless it is linked already."""

    with _stub(engine) as stub:
        reply = _ask(lambda: stub.GetLink(pb.GetLinkRequest(), timeout=CALL_TIMEOUT))

        if reply.state == pb.LINK_STATE_LINKED:
            return _state(reply)

        request = pb.LinkWithPasswordRequest(
            username=credentials.username,
            password=credentials.password,
            account_number=credentials.account_number,
        )
        reply = _ask(lambda: stub.LinkWithPassword(request, timeout=CALL_TIMEOUT))

    state = _state(reply)
    return LinkState(
        linked=state.linked,
        account_name=state.account_name,
        account_number=state.account_number,
        system_id=state.system_id,
        changed=True,
    )


def unlink(engine: Engine) -> bool:
    """Disconnects the server from CloudLink; True when it was linked."""

    with _stub(engine) as stub:
        reply = _ask(lambda: stub.GetLink(pb.GetLinkRequest(), timeout=CALL_TIMEOUT))

        if reply.state != pb.LINK_STATE_LINKED:
            return False

        _ask(lambda: stub.Unlink(pb.UnlinkRequest(), timeout=CALL_TIMEOUT))

    return True


def _state(reply: pb.Link) -> LinkState:
    return LinkState(
        linked=reply.state == pb.LINK_STATE_LINKED,
        account_name=reply.account_name,
        account_number=reply.account_number,
        system_id=reply.system_id,
    )


def _ask(call: Callable[[], pb.Link]) -> pb.Link:
    try:
        reply = call()
    except grpc.RpcError as exc:
        code = exc.code()

        if code == grpc.StatusCode.UNAVAILABLE:
            raise LinkError(
                "the registration service does not answer; is CLD enabled here?"
            ) from None

        raise LinkError(exc.details() or code.name) from None

    return reply


@contextlib.contextmanager
def _stub(engine: Engine) -> Iterator[pb_grpc.RegistrationStub]:
    with _socket(engine) as path, grpc.insecure_channel(f"unix://{path}") as channel:
        yield pb_grpc.RegistrationStub(channel)


@contextlib.contextmanager
def _socket(engine: Engine) -> Iterator[Path]:
    remote = engine.runtime_folder() / SOCKET

    if not engine.server.remote:
        with _short(remote) as path:
            yield path

        return

    try:
        with forward.forward(engine.server, str(remote)) as local:
            yield local
    except ForwardError as exc:
        raise LinkError(str(exc)) from None


@contextlib.contextmanager
def _short(path: Path) -> Iterator[Path]:
    """``path``, or a short link to it when it is too long for a socket address.

    A Unix socket address holds at most 107 bytes, and a volume's folder can
    be deep below the engine's storage root.
    """

    if len(str(path)) < MAX_SOCKET_PATH:
        yield path
        return

    with tempfile.TemporaryDirectory(prefix="cld-") as scratch:
        link = Path(scratch) / SOCKET
        link.symlink_to(path)
        yield link
