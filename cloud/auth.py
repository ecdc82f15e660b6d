"""The auth service: the token endpoint, token revocation and the public keys."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, jsonify, request

from cloud.directory import SignInError
from cloud.emulator import Emulator, emulator
from cloud.errors import ApiError, invalid_grant, invalid_request
from cloud.oauth import pkce_matches, required, single_values
from cloud.web import json_body, no_store, request_extra

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__, url_prefix="/2017-09-01")

TOKEN_FIELDS = frozenset(
    {
        "grant_type",
        "username",
        "password",
        "accountId",
        "refresh_token",
        "code",
        "redirect_uri",
        "code_verifier",
        "client_id",
        "token",
        "token_type_hint",
    }
)

REFRESH_REFUSED = "The refresh token is invalid or has been revoked"
CODE_INVALID = "The authorization code is invalid or has expired"


@bp.post("/token")
def token() -> Response:
    """Exchanges credentials, a refresh token or a code for tokens."""

    fields = _fields()
    grant_type = required(fields, "grant_type")
    grant = _GRANTS.get(grant_type)

    if grant is None:
        raise ApiError(
            400,
            "unsupported_grant_type",
            "grant_type must be password, refresh_token or authorization_code",
        )

    return no_store(jsonify(grant(emulator(), fields)))


@bp.post("/token/revoke")
def revoke() -> Response:
    """Revokes a refresh token; unknown tokens are not an error (RFC 7009)."""

    token = required(_fields(), "token")

    if emulator().store.revoke_refresh_token(token):
        log.info("Revoked a refresh token", extra=request_extra())

    return no_store(Response(status=200))


@bp.get("/.well-known/jwks.json")
def jwks() -> Response:
    """The public keys that access tokens are signed with."""

    response = jsonify(emulator().signer.jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def _fields() -> dict[str, str]:
    if request.is_json:
        body = json_body()

        if not isinstance(body, dict):
            raise invalid_request("The request body must be a JSON object")

        return single_values(body.items(), TOKEN_FIELDS)

    return single_values(request.form.items(multi=True), TOKEN_FIELDS)


def _password(em: Emulator, fields: dict[str, str]) -> dict[str, Any]:
    username = required(fields, "username")
    password = required(fields, "password")

    try:
        user = em.directory.sign_in(username, password, fields.get("accountId"))
    except SignInError as exc:
        log.info("Refused a password sign-in: %s", exc.reason, extra=request_extra())

        if exc.reason == SignInError.ACCOUNT_REQUIRED:
            raise invalid_request(exc.message, error_code="account_required") from None

        raise invalid_grant(exc.message) from None

    return em.sign_in(user, "password")[1]


def _refresh_token(em: Emulator, fields: dict[str, str]) -> dict[str, Any]:
    refresh_token = required(fields, "refresh_token")
    session = em.store.session_of(refresh_token)
    user = em.seed.user(session.user_id) if session else None

    # A user removed from the seed, or moved to another account, is gone.
    if session is None or user is None or user.account_id != session.account_id:
        log.info("Refused a refresh token", extra=request_extra())
        raise invalid_grant(REFRESH_REFUSED)

    return em.tokens(user, session.sid, refresh_token)


def _authorization_code(em: Emulator, fields: dict[str, str]) -> dict[str, Any]:
    code = required(fields, "code")
    redirect_uri = required(fields, "redirect_uri")
    verifier = required(fields, "code_verifier")
    client_id = required(fields, "client_id")
    grant = em.codes.take(code)

    if grant is None:
        _refuse_replay(em, code)
        raise invalid_grant(CODE_INVALID)

    # The code is spent from here on, even when the request is refused, so
    # a wrong verifier cannot be retried.
    em.spent_codes.put(code, "")

    if client_id != grant.client_id:
        raise invalid_grant("The authorization code was issued to another client")

    if redirect_uri != grant.redirect_uri:
        raise invalid_grant(
            "redirect_uri differs from the one the authorization code was issued for"
        )

    if not pkce_matches(verifier, grant.code_challenge):
        raise invalid_grant("code_verifier does not match the code_challenge")

    user = em.seed.user(grant.user_id)

    if user is None:
        raise invalid_grant(CODE_INVALID)

    sid, tokens = em.sign_in(user, "authorization_code")
    em.spent_codes.put(code, sid)
    return tokens


def _refuse_replay(em: Emulator, code: str) -> None:
    sid = em.spent_codes.get(code)

    if sid is None:
        return

    if sid and em.store.revoke_session(sid):
        log.warning(
            "An authorization code was used twice; revoked the tokens issued for it",
            extra={**request_extra(), "sid": sid},
        )

    raise invalid_grant("The authorization code has already been used")


_GRANTS: dict[str, Callable[[Emulator, dict[str, str]], dict[str, Any]]] = {
    "password": _password,
    "refresh_token": _refresh_token,
    "authorization_code": _authorization_code,
}
