"""The dashboard's calls to the other services, with deadlines and plain errors."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import grpc
from cld.v1 import registration_pb2 as pb
from cld.v1 import registration_pb2_grpc as pb_grpc

from services.common import rpc
from services.ui.i18n import N_

log = logging.getLogger(__name__)

# Reads are answered from the service's own state.
READ_TIMEOUT = 3.0

# Linking and unlinking wait on the cloud (CLD_CLOUD_TIMEOUT, 10 s by default,
# possibly twice), so they get longer before the dashboard gives up on them.
CLOUD_TIMEOUT = 25.0

NOT_ANSWERING = N_("The registration service is not answering; try again in a moment")


class BackendError(Exception):
    """A call to another service failed; ``message`` says why in plain words."""

    def __init__(self, message: str, code: grpc.StatusCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class ServiceClient:
    """One of the daemon's services, called over its Unix socket.

    The channel is opened on first use, inside the gunicorn worker: a gRPC
    channel does not survive a fork.
    """

    service = ""
    stub_class: Any = None
    not_answering = NOT_ANSWERING

    def __init__(self, runtime_dir: Path) -> None:
        self.runtime_dir = runtime_dir
        self._lock = threading.Lock()
        self._stub: Any = None

    def _call(self, method: str, request: Any, timeout: float) -> Any:
        try:
            return getattr(self._service_stub(), method)(request, timeout=timeout)
        except grpc.RpcError as exc:
            error = self._translate(exc)

        log.warning(
            "%s failed: %s",
            method,
            error.message,
            extra={"status": error.code.name if error.code else None},
        )
        raise error

    def _service_stub(self) -> Any:
        with self._lock:
            if self._stub is None:
                channel = rpc.channel(self.runtime_dir, self.service)
                self._stub = self.stub_class(channel)

            return self._stub

    def _translate(self, exc: grpc.RpcError) -> BackendError:
        code = exc.code()
        details = exc.details() or ""

        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            return BackendError(self.not_answering, code)

        # UNAVAILABLE is also how a service itself says the cloud cannot be
        # reached; only its health check tells that apart from its absence.
        if code == grpc.StatusCode.UNAVAILABLE and not (
            details and rpc.check_health(self.runtime_dir, self.service)
        ):
            return BackendError(self.not_answering, code)

        if details:
            return BackendError(details, code)

        return BackendError(
            f"The {self.service} service could not do this ({code.name})", code
        )


class RegistrationClient(ServiceClient):
    """The registration service, as the dashboard uses it."""

    service = "registration"
    stub_class = pb_grpc.RegistrationStub

    def get_link(self) -> pb.Link:
        """The current link."""

        link: pb.Link = self._call("GetLink", pb.GetLinkRequest(), READ_TIMEOUT)
        return link

    def begin_link(self, redirect_uri: str) -> pb.BeginLinkResponse:
        """The cloud's sign-in URL and the state that must come back with it."""

        request = pb.BeginLinkRequest(redirect_uri=redirect_uri)
        begun: pb.BeginLinkResponse = self._call("BeginLink", request, READ_TIMEOUT)
        return begun

    def complete_link(self, code: str, state: str) -> pb.Link:
        """Links with the code the cloud sent the browser back with."""

        request = pb.CompleteLinkRequest(code=code, state=state)
        link: pb.Link = self._call("CompleteLink", request, CLOUD_TIMEOUT)
        return link

    def unlink(self) -> pb.Link:
        """Disconnects from CloudLink."""

        link: pb.Link = self._call("Unlink", pb.UnlinkRequest(), CLOUD_TIMEOUT)
        return link
