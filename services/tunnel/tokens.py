"""Access tokens for the relay, asked of the registration service."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import grpc
from cld.v1 import registration_pb2 as pb
from cld.v1 import registration_pb2_grpc as pb_grpc

from services.common import rpc


class NotReadyError(Exception):
    """No token can be had now, with the reason a person can act on."""


@dataclass(frozen=True)
class Credentials:
    """Who this daemon is at the relay."""

    token: str
    system_id: str


class TokenSource:
    """Asks the registration service for a current access token."""

    def __init__(self, runtime_dir: Path, timeout: float = 10.0) -> None:
        self._channel = rpc.channel(runtime_dir, "registration")
        self._stub = pb_grpc.RegistrationStub(self._channel)
        self.timeout = timeout

    def get(self) -> Credentials:
        """The current token and system id; raises NotReadyError."""

        try:
            reply = self._stub.GetAccessToken(
                pb.GetAccessTokenRequest(), timeout=self.timeout
            )
        except grpc.RpcError as exc:
            code = exc.code() if isinstance(exc, grpc.Call) else None

            if code == grpc.StatusCode.FAILED_PRECONDITION:
                raise NotReadyError("This system is not linked to CloudLink.") from None

            if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise NotReadyError(
                    "The registration service cannot give an access token now."
                ) from None

            detail = exc.details() if isinstance(exc, grpc.Call) else str(exc)
            raise NotReadyError(f"No access token: {detail}") from None

        if not reply.token or not reply.system_id:
            raise NotReadyError("This system is linked but not registered yet.")

        return Credentials(reply.token, reply.system_id)

    def close(self) -> None:
        """Closes the channel."""

        self._channel.close()
