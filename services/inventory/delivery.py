"""Sending a queued report to the cloud's system manager."""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

import grpc
import requests
from cld.v1 import registration_pb2, registration_pb2_grpc

from services.common import rpc
from services.common.cloud_http import API, http_session
from services.common.config import Config
from services.inventory.outbox import Entry

log = logging.getLogger(__name__)


class Result(enum.Enum):
    """How one delivery attempt ended."""

    DELIVERED = "delivered"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
    FAILED = "failed"


@dataclass(frozen=True)
class Outcome:
    """A delivery attempt's result and what explains it."""

    result: Result
    detail: str = ""


class TokenError(Exception):
    """No access token could be had from the registration service."""


class AccessTokens:
    """Current access tokens from the registration service, over gRPC."""

    def __init__(self, config: Config) -> None:
        self._channel = rpc.channel(config.runtime_dir, "registration")
        self._stub = registration_pb2_grpc.RegistrationStub(self._channel)
        self._timeout = config.cloud_timeout + 2

    def token(self) -> str:
        """A token good for at least the next minute."""

        try:
            reply = self._stub.GetAccessToken(
                registration_pb2.GetAccessTokenRequest(), timeout=self._timeout
            )
        except grpc.RpcError as exc:
            raise TokenError(
                f"the registration service gave no access token: {exc.details()}"
            ) from None

        return str(reply.token)


class SystemManager:
    """The cloud's report endpoint."""

    def __init__(self, config: Config, proxy: str = "") -> None:
        self.base = config.cloud_url.rstrip("/")
        self.timeout = config.cloud_timeout
        self.session = http_session(config)

        # The variable wins; otherwise the host's own proxy setting is used.
        if not config.https_proxy and proxy:
            self.session.proxies = {"https": proxy, "http": proxy}

    def submit(self, token: str, entry: Entry) -> Outcome:
        """Posts ``entry``; the report id is its idempotency key."""

        url = f"{self.base}{API}/systems/{entry.system_id}/reports"

        try:
            response = self.session.post(
                url,
                data=entry.body,
                headers={
                    "Authorization": f"Bearer {token}",
                    "Content-Type": "application/json",
                    "Idempotency-Key": entry.report_id,
                },
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            return Outcome(Result.FAILED, f"CloudLink cannot be reached: {exc}")

        return classify(response.status_code, _error_text(response))


def classify(status: int, error: str) -> Outcome:
    """What an HTTP answer to a submission means for the report."""

    if status == 201:
        return Outcome(Result.DELIVERED)

    if status == 200:
        return Outcome(Result.DUPLICATE)

    # Throttling, server trouble and expired tokens pass; the report waits.
    if status in {401, 408, 425, 429} or status >= 500:
        return Outcome(Result.FAILED, f"CloudLink answered {status}: {error}")

    return Outcome(Result.REJECTED, f"CloudLink refused the report ({status}): {error}")


def _error_text(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]

    if isinstance(body, dict):
        return str(body.get("error_description") or body.get("error") or "")[:1000]

    return ""
