"""The CloudLink calls the registration service makes: auth and systems."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import requests

from services.common.cloud_http import API, http_session
from services.common.config import Config

log = logging.getLogger(__name__)

CLIENT_ID = "cloudlink-daemon"


class CloudError(Exception):
    """A cloud call that did not succeed."""


class CloudUnreachableError(CloudError):
    """The cloud could not be reached or did not answer in time."""


@dataclass
class CloudRejectedError(CloudError):
    """The cloud answered with an error."""

    status: int
    error: str
    description: str
    error_code: str = ""

    def __str__(self) -> str:
        return self.description or self.error or f"HTTP {self.status}"


@dataclass(frozen=True)
class TokenGrant:
    """What the token endpoint returned."""

    access_token: str
    refresh_token: str
    expires_in: int


class CloudApi:
    """Thin client of the cloud's auth and systems endpoints."""

    def __init__(self, config: Config, session: requests.Session | None = None):
        self.base = config.cloud_url.rstrip("/")
        self.timeout = config.cloud_timeout
        self.session = session or http_session(config)

    def authorize_url(self) -> str:
        """Where the browser signs in for an authorization code."""

        return f"{self.base}{API}/authorize"

    def password_grant(
        self, username: str, password: str, account_number: str
    ) -> TokenGrant:
        """Signs in with a username and password."""

        form = {
            "grant_type": "password",
            "username": username,
            "password": password,
            "client_id": CLIENT_ID,
        }

        if account_number:
            form["accountId"] = account_number

        return self._grant(form)

    def code_grant(self, code: str, redirect_uri: str, verifier: str) -> TokenGrant:
        """Exchanges an authorization code (with its PKCE verifier)."""

        return self._grant(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
                "client_id": CLIENT_ID,
            }
        )

    def refresh_grant(self, refresh_token: str) -> TokenGrant:
        """A new access token for a refresh token."""

        return self._grant(
            {
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": CLIENT_ID,
            }
        )

    def revoke(self, refresh_token: str) -> None:
        """Tells the cloud a refresh token will not be used again."""

        self._call(
            "POST",
            "/token/revoke",
            data={"token": refresh_token, "client_id": CLIENT_ID},
        )

    def register_system(
        self, access_token: str, system: dict[str, str]
    ) -> dict[str, Any]:
        """Registers this system in the token's account."""

        return self._call("POST", "/systems", json=system, token=access_token)

    def delete_system(self, access_token: str, system_id: str) -> None:
        """Removes this system from its account."""

        self._call("DELETE", f"/systems/{system_id}", token=access_token)

    def _grant(self, form: dict[str, str]) -> TokenGrant:
        body = self._call("POST", "/token", data=form)

        try:
            return TokenGrant(
                access_token=str(body["access_token"]),
                refresh_token=str(body.get("refresh_token", "")),
                expires_in=int(body.get("expires_in", 3600)),
            )
        except (KeyError, TypeError, ValueError):
            raise CloudRejectedError(
                200, "invalid_response", "The token endpoint's answer is incomplete"
            ) from None

    def _call(
        self, method: str, path: str, token: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        url = f"{self.base}{API}{path}"
        headers = {"Authorization": f"Bearer {token}"} if token else {}

        try:
            response = self.session.request(
                method, url, headers=headers, timeout=self.timeout, **kwargs
            )
        except requests.RequestException as exc:
            raise CloudUnreachableError(
                f"CloudLink cannot be reached at {self.base}: {_reason(exc)}"
            ) from exc

        if response.status_code >= 400:
            raise _rejection(response)

        if not response.content:
            return {}

        try:
            body = response.json()
        except ValueError:
            raise CloudRejectedError(
                response.status_code, "invalid_response", f"{url} did not answer JSON"
            ) from None

        return body if isinstance(body, dict) else {"items": body}


def _rejection(response: requests.Response) -> CloudRejectedError:
    try:
        body = response.json()
    except ValueError:
        body = {}

    if not isinstance(body, dict):
        body = {}

    return CloudRejectedError(
        status=response.status_code,
        error=str(body.get("error", "")),
        description=str(
            body.get("error_description")
            or body.get("message")
            or f"CloudLink answered HTTP {response.status_code}"
        ),
        error_code=str(body.get("error_code", "")),
    )


def _reason(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.Timeout):
        return "no answer in time"

    if isinstance(exc, requests.exceptions.ProxyError):
        return "the proxy refused or failed the connection"

    if isinstance(exc, requests.exceptions.SSLError):
        return "the TLS certificate could not be verified"

    if isinstance(exc, requests.ConnectionError):
        return "connection refused or no route"

    return type(exc).__name__
