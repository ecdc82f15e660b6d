"""The cloud's Users API, as the provisioning engine calls it."""

from __future__ import annotations

import threading
from typing import Any

import requests

from services.common.cloud_http import API, http_session
from services.common.config import Config
from services.registration.cloud_api import CloudRejectedError, CloudUnreachableError
from services.registration.provisioning.users import CloudCopy, PmUser

PAGE = 1000


class UsersClient:
    """Calls to ``/users`` with a keep-alive session per calling thread.

    Raises CloudUnreachableError when the cloud does not answer (or answers
    with a server error, which a retry may cure) and CloudRejectedError, its
    ``error_code`` the API's ``code``, when it refuses.
    """

    def __init__(self, config: Config) -> None:
        self.config = config
        self.base = config.cloud_url.rstrip("/")
        self.timeout = config.cloud_timeout
        self._local = threading.local()

    def list_system(self, token: str, system_id: str) -> list[CloudCopy]:
        """Every user this system provisioned, fetched in pages."""

        users: list[CloudCopy] = []

        while True:
            body = self._call(
                "GET",
                "/users",
                token,
                params={"systemId": system_id, "$top": PAGE, "$skip": len(users)},
            )
            items = _items(body)
            users.extend(items)

            if not items or "next" not in body.get("_links", {}):
                return users

    def count_system(self, token: str, system_id: str) -> int:
        """How many users this system provisioned: one cheap call."""

        body = self._call(
            "GET", "/users", token, params={"systemId": system_id, "$top": 1}
        )
        return int(body.get("count", 0))

    def find(self, token: str, system_id: str, extension: str) -> CloudCopy | None:
        """This system's user with ``extension``, if any."""

        body = self._call(
            "GET",
            "/users",
            token,
            params={"systemId": system_id, "extension": extension, "$top": 1},
        )
        # Checked here too: a filter the cloud ignored must not pick a user.
        found = [copy for copy in _items(body) if copy.extension == extension]
        return found[0] if found and extension else None

    def create(self, token: str, system_id: str, user: PmUser, key: str) -> CloudCopy:
        """Creates ``user``; a retry with the same ``key`` creates nothing more."""

        body = self._call(
            "POST",
            "/users",
            token,
            json=user.cloud_body(system_id),
            headers={"Idempotency-Key": key},
        )
        return _copy(body)

    def replace(self, token: str, user_id: str, user: PmUser) -> CloudCopy:
        """Sets the cloud user's names, e-mail, services and role to ``user``'s."""

        body = self._call("PUT", f"/users/{user_id}", token, json=user.cloud_body(""))
        return _copy(body)

    def delete(self, token: str, user_id: str) -> None:
        """Removes a user; one already gone counts as removed."""

        try:
            self._call("DELETE", f"/users/{user_id}", token)
        except CloudRejectedError as exc:
            if exc.status != 404:
                raise

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)

        if session is None:
            session = http_session(self.config)
            self._local.session = session

        return session

    def _call(
        self,
        method: str,
        path: str,
        token: str,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        url = f"{self.base}{API}{path}"
        sent = {"Authorization": f"Bearer {token}", **(headers or {})}

        try:
            response = self._session().request(
                method, url, headers=sent, timeout=self.timeout, **kwargs
            )
        except requests.RequestException as exc:
            raise CloudUnreachableError(
                f"CloudLink cannot be reached at {self.base}: {type(exc).__name__}"
            ) from exc

        if response.status_code >= 500:
            raise CloudUnreachableError(
                f"CloudLink answered HTTP {response.status_code} at {self.base}"
            )

        body = _json(response)

        if response.status_code >= 400:
            raise CloudRejectedError(
                status=response.status_code,
                error=str(body.get("error", "")),
                description=str(
                    body.get("message")
                    or body.get("error_description")
                    or f"CloudLink answered HTTP {response.status_code}"
                ),
                error_code=str(body.get("code", "")),
            )

        return body


def _json(response: requests.Response) -> dict[str, Any]:
    if not response.content:
        return {}

    try:
        body = response.json()
    except ValueError:
        return {}

    return body if isinstance(body, dict) else {}


def _items(body: dict[str, Any]) -> list[CloudCopy]:
    items = body.get("_embedded", {}).get("items", [])

    try:
        return [CloudCopy.from_document(item) for item in items]
    except (KeyError, TypeError, AttributeError):
        raise CloudRejectedError(
            200, "invalid_response", "The Users API listed a user without its id"
        ) from None


def _copy(body: dict[str, Any]) -> CloudCopy:
    try:
        return CloudCopy.from_document(body)
    except KeyError:
        raise CloudRejectedError(
            200, "invalid_response", "The Users API answered a user without its id"
        ) from None
