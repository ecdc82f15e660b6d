"""The link to a CloudLink account: made, kept fresh, lost and undone."""

from __future__ import annotations

import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import grpc

from services.common import topics
from services.common.state import StateStore
from services.common.version import build_info
from services.registration.account import (
    LinkedAccount,
    account_from_claims,
    token_claims,
)
from services.registration.cloud_api import (
    CLIENT_ID,
    CloudApi,
    CloudRejectedError,
    CloudUnreachableError,
    TokenGrant,
)
from services.registration.pkce import PendingLinks, authorize_url, check_redirect_uri

log = logging.getLogger(__name__)

# Refresh this long before the access token expires, so a peer never gets a
# token that dies in the middle of its call.
REFRESH_MARGIN = 60.0

LOST_REASON = (
    "The link to CloudLink was lost: the cloud rejected this system's "
    "credentials ({detail}). Link the system again."
)


class LinkError(Exception):
    """A link action that failed, with the gRPC status that describes it."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class AccessToken:
    """A current access token, kept in memory only."""

    token: str
    expires: float

    def fresh(self, now: float) -> bool:
        """True while the token is good for at least the refresh margin."""

        return now < self.expires - REFRESH_MARGIN


Publish = Callable[[str, dict[str, Any]], None]


class LinkManager:
    """The registration service's one owner of the link and its secrets.

    The refresh token lives in the state file (mode 0600) and nowhere else;
    access tokens live in memory and are handed to peers over gRPC. The bus
    only ever sees the public account details.
    """

    def __init__(
        self,
        store: StateStore,
        cloud: CloudApi,
        publish: Publish,
        hostname: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.cloud = cloud
        self.publish = publish
        self.hostname = hostname or socket.gethostname()
        self.clock = clock
        self.pending = PendingLinks()
        self.wakeup = threading.Event()
        self._lock = threading.RLock()
        self._access: AccessToken | None = None
        self._state = self._load()

    def _load(self) -> dict[str, Any]:
        state = self.store.load() or {}

        if self.store.quarantined is not None:
            state = {
                "reason": "The saved link could not be read and was kept aside as "
                f"{self.store.quarantined.name}. Link the system again."
            }

        if not state.get("installation_id"):
            state["installation_id"] = str(uuid.uuid4())
            self.store.save(state)

        return state

    @property
    def linked(self) -> bool:
        """True while a link (refresh token and system) is held."""

        with self._lock:
            return bool(self._state.get("refresh_token"))

    def account(self) -> LinkedAccount | None:
        """The linked account, or None."""

        with self._lock:
            if not self.linked:
                return None

            return LinkedAccount.from_dict(self._state.get("account", {}))

    def reason(self) -> str:
        """Why the system is not linked, when it lost a link."""

        with self._lock:
            return str(self._state.get("reason", ""))

    def announce(self) -> None:
        """Publishes the current link state (retained) on the bus."""

        account = self.account()

        if account is None:
            payload: dict[str, Any] = {"state": "not_linked", "reason": self.reason()}
        else:
            payload = {"state": "linked", **account.as_dict()}

        self.publish(topics.LINK, payload)
        self.wakeup.set()

    def begin(self, redirect_uri: str) -> tuple[str, str]:
        """Opens a browser sign-in; returns its URL and state."""

        try:
            check_redirect_uri(redirect_uri)
        except ValueError as exc:
            raise LinkError(grpc.StatusCode.INVALID_ARGUMENT, str(exc)) from None

        self._refuse_if_linked()

        with self._lock:
            state, verifier = self.pending.open(redirect_uri)

        url = authorize_url(
            self.cloud.authorize_url(), CLIENT_ID, redirect_uri, state, verifier
        )
        return url, state

    def complete(self, code: str, state: str) -> LinkedAccount:
        """Finishes a browser sign-in with the code the cloud sent back."""

        if not code or not state:
            raise LinkError(
                grpc.StatusCode.INVALID_ARGUMENT, "code and state are both required"
            )

        with self._lock:
            pending = self.pending.take(state)

        if pending is None:
            raise LinkError(
                grpc.StatusCode.INVALID_ARGUMENT,
                "This link request is unknown or has expired; start linking again.",
            )

        return self._link(
            lambda: self.cloud.code_grant(code, pending.redirect_uri, pending.verifier)
        )

    def link_with_password(
        self, username: str, password: str, account_number: str
    ) -> LinkedAccount:
        """Links without a browser, for the host maintenance tool."""

        if not username or not password:
            raise LinkError(
                grpc.StatusCode.INVALID_ARGUMENT, "username and password are required"
            )

        if account_number and not account_number.strip().isalnum():
            raise LinkError(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"{account_number!r} is not an account number",
            )

        return self._link(
            lambda: self.cloud.password_grant(
                username, password, account_number.strip()
            )
        )

    def unlink(self) -> str:
        """Disconnects; returns a note when the cloud could not be told."""

        with self._lock:
            if not self.linked:
                return ""

            refresh = str(self._state["refresh_token"])
            system_id = str(self._state.get("account", {}).get("system_id", ""))
            note = ""

            try:
                token = self._access_token_locked().token
                self.cloud.delete_system(token, system_id)
                self.cloud.revoke(refresh)
            except (CloudUnreachableError, CloudRejectedError, LinkError) as exc:
                note = (
                    "Disconnected here, but CloudLink could not be told "
                    f"({exc}); the system may still be listed in the account."
                )
                log.warning("Unlinked locally only: %s", exc)

            self._forget(reason="")

        log.info("Unlinked from CloudLink")
        self.announce()
        return note

    def access_token(self) -> tuple[str, float, LinkedAccount]:
        """A current access token for peers, refreshed when near expiry."""

        with self._lock:
            token = self._access_token_locked()
            account = LinkedAccount.from_dict(self._state.get("account", {}))
            return token.token, token.expires, account

    def refresh_if_due(self) -> float:
        """Refreshes the access token when due; returns seconds to the next."""

        with self._lock:
            if not self.linked:
                return 60.0

            try:
                token = self._access_token_locked()
            except LinkError as exc:
                if exc.code == grpc.StatusCode.UNAVAILABLE:
                    return 15.0

                return 60.0

            return max(5.0, token.expires - REFRESH_MARGIN - self.clock())

    def _access_token_locked(self) -> AccessToken:
        if not self.linked:
            raise LinkError(
                grpc.StatusCode.FAILED_PRECONDITION,
                "This system is not linked to CloudLink.",
            )

        now = self.clock()

        if self._access is not None and self._access.fresh(now):
            return self._access

        try:
            grant = self.cloud.refresh_grant(str(self._state["refresh_token"]))
        except CloudUnreachableError as exc:
            raise LinkError(grpc.StatusCode.UNAVAILABLE, str(exc)) from None
        except CloudRejectedError as exc:
            if exc.error in {"invalid_grant", "invalid_client", "unauthorized_client"}:
                self._lose(str(exc))

            raise LinkError(grpc.StatusCode.UNAUTHENTICATED, str(exc)) from None

        self._access = AccessToken(grant.access_token, now + grant.expires_in)
        log.info("Refreshed the access token", extra={"expires_in": grant.expires_in})
        return self._access

    def _lose(self, detail: str) -> None:
        log.warning("The cloud rejected the refresh token: %s", detail)
        self._forget(reason=LOST_REASON.format(detail=detail))
        threading.Thread(target=self.announce, daemon=True).start()

    def _forget(self, reason: str) -> None:
        self._state = {
            "installation_id": self._state["installation_id"],
            "reason": reason,
        }
        self._access = None
        self.store.save(self._state)

    def _refuse_if_linked(self) -> None:
        account = self.account()

        if account is not None:
            raise LinkError(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"This system is already linked to {account.account_name}; "
                "disconnect it first.",
            )

    def _link(self, sign_in: Callable[[], TokenGrant]) -> LinkedAccount:
        self._refuse_if_linked()

        try:
            grant = sign_in()
        except CloudUnreachableError as exc:
            raise LinkError(
                grpc.StatusCode.UNAVAILABLE,
                f"{exc}. Nothing was changed; try again.",
            ) from None
        except CloudRejectedError as exc:
            raise LinkError(_sign_in_status(exc), str(exc)) from None

        if not grant.refresh_token:
            raise LinkError(
                grpc.StatusCode.INTERNAL, "The cloud did not issue a refresh token"
            )

        try:
            account = account_from_claims(token_claims(grant.access_token))
            system = self.cloud.register_system(
                grant.access_token, self._system_description()
            )
        except (CloudUnreachableError, CloudRejectedError, ValueError) as exc:
            self._abandon(grant)
            raise _registration_error(exc) from None

        linked = LinkedAccount(
            **{
                **account.as_dict(),
                "system_id": str(system.get("systemId", "")),
                "admin_portal_url": str(system.get("portalUrl", "")),
                "account_name": str(system.get("accountName") or account.account_name),
                "linked_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
        )

        with self._lock:
            self._state = {
                "installation_id": self._state["installation_id"],
                "refresh_token": grant.refresh_token,
                "account": linked.as_dict(),
                "reason": "",
            }
            self.store.save(self._state)
            self._access = AccessToken(
                grant.access_token, self.clock() + grant.expires_in
            )

        log.info(
            "Linked to CloudLink account %s",
            linked.account_number,
            extra={"system_id": linked.system_id, "region": linked.region},
        )
        self.announce()
        return linked

    def _abandon(self, grant: TokenGrant) -> None:
        try:
            self.cloud.revoke(grant.refresh_token)
        except (CloudUnreachableError, CloudRejectedError) as exc:
            log.warning("Could not revoke an unused refresh token: %s", exc)

    def _system_description(self) -> dict[str, str]:
        return {
            "installationId": str(self._state["installation_id"]),
            "name": self.hostname,
            "hostname": self.hostname,
            "platform": "",
            "daemonVersion": build_info().version,
        }


def _sign_in_status(exc: CloudRejectedError) -> grpc.StatusCode:
    if exc.error_code == "account_required" or exc.error == "invalid_request":
        return grpc.StatusCode.INVALID_ARGUMENT

    if exc.error == "invalid_grant" or exc.status == 401:
        return grpc.StatusCode.UNAUTHENTICATED

    if exc.status == 403:
        return grpc.StatusCode.PERMISSION_DENIED

    return grpc.StatusCode.FAILED_PRECONDITION


def _registration_error(exc: Exception) -> LinkError:
    if isinstance(exc, CloudUnreachableError):
        return LinkError(
            grpc.StatusCode.UNAVAILABLE, f"{exc}. Nothing was changed; try again."
        )

    if isinstance(exc, CloudRejectedError) and exc.status == 403:
        return LinkError(grpc.StatusCode.PERMISSION_DENIED, str(exc))

    return LinkError(
        grpc.StatusCode.FAILED_PRECONDITION,
        f"CloudLink did not register this system: {exc}",
    )
