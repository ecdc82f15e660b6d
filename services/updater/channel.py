"""The cloud's update channel, reached with the registration's access token."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import grpc
import requests
from cld.v1 import registration_pb2 as reg_pb
from cld.v1 import registration_pb2_grpc as reg_grpc

from services.common import rpc
from services.common.cloud_http import API, http_session
from services.common.config import Config
from services.updater import download
from services.updater.manifest import Artifact

log = logging.getLogger(__name__)


class ChannelError(Exception):
    """The channel could not be asked; the message says why, for people."""


class ChannelUnreachableError(ChannelError):
    """CloudLink could not be reached, or the link could not give a token."""


TokenSource = Callable[[], str]


def registration_token(runtime_dir: Path, timeout: float) -> TokenSource:
    """Asks the registration service for a current access token."""

    def token() -> str:
        with rpc.channel(runtime_dir, "registration") as ch:
            try:
                reply = reg_grpc.RegistrationStub(ch).GetAccessToken(
                    reg_pb.GetAccessTokenRequest(), timeout=timeout
                )
            except grpc.RpcError as exc:
                raise _token_error(exc) from None

        return str(reply.token)

    return token


def _token_error(exc: grpc.RpcError) -> ChannelError:
    code = exc.code() if isinstance(exc, grpc.Call) else None
    detail = exc.details() if isinstance(exc, grpc.Call) else str(exc)

    if code == grpc.StatusCode.FAILED_PRECONDITION:
        return ChannelError(
            "This system is not linked to CloudLink; updates are checked once "
            "it is linked."
        )

    if code == grpc.StatusCode.UNAVAILABLE:
        return ChannelUnreachableError(
            "No access token for the update channel: "
            f"{detail or 'the registration service is not running'}"
        )

    return ChannelError(f"No access token for the update channel: {detail}")


class Channel:
    """One release channel of the cloud's update service."""

    def __init__(
        self,
        config: Config,
        token: TokenSource,
        session: requests.Session | None = None,
    ) -> None:
        self.base = config.cloud_url.rstrip("/")
        self.name = config.updater_channel
        self.timeout = config.cloud_timeout
        self.token = token
        self.session = session or http_session(config)

    @property
    def latest_url(self) -> str:
        """Where the channel's newest release manifest is served."""

        return f"{self.base}{API}/releases/{self.name}/latest"

    def latest(self) -> Any:
        """The newest release envelope, as JSON; None when none is published."""

        headers = self._auth(self.latest_url)

        try:
            response = self.session.get(
                self.latest_url, headers=headers, timeout=self.timeout
            )
        except requests.RequestException as exc:
            raise ChannelUnreachableError(
                f"CloudLink cannot be reached at {self.base}: {_why(exc)}"
            ) from exc

        if response.status_code == 404:
            return None

        if response.status_code >= 400:
            raise ChannelError(
                f"The update channel answered HTTP {response.status_code}: "
                f"{_description(response)}"
            )

        try:
            return response.json()
        except ValueError:
            raise ChannelError("The update channel did not answer JSON") from None

    def fetch(
        self,
        artifact: Artifact,
        folder: Path,
        progress: download.Progress | None = None,
        verifying: Callable[[], None] | None = None,
    ) -> Path:
        """The verified artifact, downloaded or carried on as needed."""

        return download.fetch(
            self.session,
            artifact,
            folder,
            headers=self._auth(artifact.url),
            timeout=max(self.timeout, 30.0),
            progress=progress,
            verifying=verifying,
        )

    def _auth(self, url: str) -> dict[str, str]:
        # The token is for CloudLink only: an artifact served from elsewhere
        # is fetched without it, its signed hash being what makes it safe.
        if _origin(url) != _origin(self.base):
            return {}

        return {"Authorization": f"Bearer {self.token()}"}


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def _description(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = {}

    if isinstance(body, dict) and body.get("error_description"):
        return str(body["error_description"])

    return response.reason or "no detail"


def _why(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.Timeout):
        return "no answer in time"

    if isinstance(exc, requests.ConnectionError):
        return "connection refused or no route"

    return type(exc).__name__
