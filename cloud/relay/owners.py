"""The emulator's answer to the relay: is this system the token holder's own?

A daemon proves who it is with an access token, but a token names an
account and a sign-in session, not a system. The relay asks here whether
the system the daemon claims was linked by that very sign-in session, so
one system can never take over another one's public hosts, even within the
same account.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify, request

from cloud.emulator import emulator
from cloud.errors import ApiError
from cloud.tokens import TokenError
from cloud.web import request_extra

log = logging.getLogger(__name__)

bp = Blueprint("relay_owners", __name__, url_prefix="/2017-09-01/relay")


@bp.get("/systems/<system_id>")
def owner(system_id: str) -> Response:
    """The system's account, when the bearer's sign-in linked it."""

    scheme, _, token = request.headers.get("Authorization", "").partition(" ")

    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "A bearer access token is required")

    em = emulator()

    try:
        claims = em.verifier.verify(token.strip())
    except TokenError as exc:
        raise ApiError(401, "invalid_token", f"The access token {exc}") from None

    system = em.store.system(str(claims["accountId"]), system_id)

    if system is None:
        raise ApiError(404, "not_found", f"No system {system_id} in this account")

    if system.sid != claims["sid"] or not em.store.is_live(system.sid):
        log.warning(
            "Refused relay access to system %s for another sign-in",
            system_id,
            extra={**request_extra(), "system_id": system_id},
        )
        raise ApiError(
            403, "forbidden", "This system was linked by another sign-in session"
        )

    return jsonify({"systemId": system.system_id, "accountId": system.account_id})
