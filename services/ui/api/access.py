"""Who may call the API: HTTP Basic with an API client's name and password.

Wrong passwords are throttled like dashboard logins, per client name and
per address, with a throttle of the API's own so that a failing PM does
not lock administrators out of the dashboard, nor the reverse.
"""

from __future__ import annotations

import logging
import math

from flask import g, request

from services.ui.api.credentials import ApiClients
from services.ui.api.errors import ApiError
from services.ui.throttle import LoginThrottle

log = logging.getLogger(__name__)

CHALLENGE = 'Basic realm="CloudLink Daemon API", charset="UTF-8"'

# argon2 of a megabyte-long "password" would only burn CPU.
_MAX_PASSWORD = 1024


def authenticate(clients: ApiClients, throttle: LoginThrottle) -> str:
    """The API client the current request comes from.

    Raises ApiError: 401 without valid credentials, 429 while too many
    wrong passwords were sent for the name or from the address.
    """

    credentials = request.authorization

    if (
        credentials is None
        or credentials.type != "basic"
        or not credentials.username
        or credentials.password is None
    ):
        raise _unauthorized(
            "This API needs HTTP Basic credentials of a Provisioning Manager API client"
        )

    name = credentials.username
    keys = (f"api-client:{name.casefold()}", f"address:{request.remote_addr}")
    wait = throttle.retry_after(keys)

    if wait > 0:
        log.warning(
            "Refused API client %r from %s: too many failures",
            name[:64],
            request.remote_addr,
        )
        raise ApiError(
            429,
            "TOO_MANY_FAILURES",
            "Too many wrong passwords for this API client or from this address; "
            f"try again in {math.ceil(wait)} seconds",
            {"Retry-After": str(math.ceil(wait))},
        )

    password = credentials.password

    if len(password) > _MAX_PASSWORD or not clients.verify(name, password):
        throttle.failed(keys)
        log.warning(
            "Wrong API credentials for %r from %s", name[:64], request.remote_addr
        )
        raise _unauthorized("Wrong API client name or password")

    throttle.succeeded(keys[0])
    g.api_client = name
    return name


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "UNAUTHORIZED", message, {"WWW-Authenticate": CHALLENGE})
