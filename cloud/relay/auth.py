"""Who may do what at the relay: daemons by their system, visitors by account.

Tokens are checked locally against the cloud's published keys, fetched once
and again only when a token names a key not seen yet. Whether a daemon owns
the system it claims is asked of the cloud once per sign-in session and
system, then remembered for a while.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import requests

from cloud.tokens import TokenError, Verifier

log = logging.getLogger(__name__)

API = "/2017-09-01"

# Keys are fetched again for an unknown kid at most this often, so a flood of
# forged tokens cannot turn the relay into a load on the cloud.
_REFETCH_INTERVAL = 30.0
_OWNER_TTL = 300.0
_TIMEOUT = 10.0

# Visitors send their token with every request; checking an ES256 signature
# each time would cost more than the hop itself.
_VISITOR_CACHE = 4096


class AuthError(Exception):
    """A daemon or visitor that must be turned away, and why."""


@dataclass(frozen=True)
class Identity:
    """Who a valid access token speaks for."""

    user_id: str
    account_id: str
    sid: str
    expires: float


def identity(claims: dict[str, Any]) -> Identity:
    """The identity in verified ``claims``."""

    return Identity(
        user_id=str(claims["userId"]),
        account_id=str(claims["accountId"]),
        sid=str(claims["sid"]),
        expires=float(claims["exp"]),
    )


class Authority:
    """Checks tokens and system ownership against the cloud."""

    def __init__(self, cloud_url: str, issuer: str) -> None:
        self.cloud_url = cloud_url
        self.issuer = issuer
        self._verifier: Verifier | None = None
        self._fetched = 0.0
        self._owners: dict[tuple[str, str], tuple[str, float]] = {}
        self._visitors: OrderedDict[str, Identity] = OrderedDict()
        self._session = requests.Session()
        self._session.trust_env = False

    async def verify(self, token: str) -> Identity:
        """The identity of ``token``; raises AuthError when it is not valid."""

        verifier = self._verifier or await self._refresh_keys()

        try:
            return identity(verifier.verify(token))
        except TokenError as exc:
            if str(exc) != "signed with an unknown key" or not self._may_refetch():
                raise AuthError(f"the access token is {exc}") from None

        try:
            return identity((await self._refresh_keys()).verify(token))
        except TokenError as exc:
            raise AuthError(f"the access token is {exc}") from None

    def known_visitor(self, token: str) -> Identity | None:
        """The remembered identity of a token that has not expired, if any."""

        known = self._visitors.get(token)

        if known is None or known.expires <= time.time():
            return None

        self._visitors.move_to_end(token)
        return known

    async def visitor(self, token: str) -> Identity:
        """The identity of a visitor's token, remembered until it expires."""

        known = self.known_visitor(token)

        if known is not None:
            return known

        who = await self.verify(token)
        self._visitors[token] = who

        while len(self._visitors) > _VISITOR_CACHE:
            self._visitors.popitem(last=False)

        return who

    async def owner_account(self, token: str, who: Identity, system_id: str) -> str:
        """The account of ``system_id`` if ``who``'s sign-in linked it."""

        key = (who.sid, system_id)
        cached = self._owners.get(key)

        if cached is not None and cached[1] > time.monotonic():
            return cached[0]

        status, body = await asyncio.to_thread(
            self._get, f"{API}/relay/systems/{system_id}", token
        )

        if status == 200 and body.get("accountId") == who.account_id:
            self._owners[key] = (who.account_id, time.monotonic() + _OWNER_TTL)
            return who.account_id

        if status in (401, 403, 404):
            raise AuthError(
                f"system {system_id} is not this sign-in's own: "
                f"{body.get('error_description', status)}"
            )

        raise AuthError(f"the cloud could not confirm system {system_id} ({status})")

    async def redeem(self, code: str, label: str) -> str:
        """The access token a one-time code from the admin page stands for."""

        status, body = await asyncio.to_thread(
            self._post, f"{API}/relay/visits", {"code": code, "label": label}
        )
        token = body.get("access_token")

        if status != 200 or not isinstance(token, str):
            raise AuthError(
                f"the entry code was refused: {body.get('error_description', status)}"
            )

        return token

    def _may_refetch(self) -> bool:
        return time.monotonic() - self._fetched >= _REFETCH_INTERVAL

    async def _refresh_keys(self) -> Verifier:
        self._fetched = time.monotonic()
        status, body = await asyncio.to_thread(
            self._get, f"{API}/.well-known/jwks.json", None
        )

        if status != 200:
            raise AuthError(f"the cloud's token keys are unavailable ({status})")

        try:
            self._verifier = Verifier(body, self.issuer)
        except ValueError as exc:
            raise AuthError(f"the cloud's token keys are unusable: {exc}") from None

        log.info("Loaded the cloud's token keys from %s", self.cloud_url)
        return self._verifier

    def _get(self, path: str, token: str | None) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self._send("GET", path, headers=headers)

    def _post(self, path: str, body: dict[str, str]) -> tuple[int, dict[str, Any]]:
        return self._send("POST", path, json=body)

    def _send(
        self, method: str, path: str, **options: Any
    ) -> tuple[int, dict[str, Any]]:
        try:
            response = self._session.request(
                method, f"{self.cloud_url}{path}", timeout=_TIMEOUT, **options
            )
        except requests.RequestException as exc:
            log.warning("The cloud is unreachable at %s: %s", self.cloud_url, exc)
            return 503, {}

        try:
            body = response.json()
        except ValueError:
            body = {}

        return response.status_code, body if isinstance(body, dict) else {}
