"""OAuth 2.0 rules without I/O: request fields, PKCE, authorize parameters."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from cloud.errors import invalid_request

# RFC 7636: a verifier is 43 to 128 unreserved characters; an S256 challenge
# is the 43-character unpadded base64url of its SHA-256.
_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")
_S256_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
_PRINTABLE = re.compile(r"[\x21-\x7e]+")

AUTHORIZE_PARAMS = frozenset(
    {
        "response_type",
        "client_id",
        "redirect_uri",
        "state",
        "code_challenge",
        "code_challenge_method",
        "scope",
    }
)

MAX_FIELD_LENGTH = 4096
_LIMITS = {"username": 320, "password": 1024, "accountId": 64, "client_id": 200}


def single_values(
    pairs: Iterable[tuple[str, Any]], known: Collection[str]
) -> dict[str, str]:
    """The ``known`` request fields as a dict, refusing repeated or non-text ones.

    Other fields are ignored, as OAuth asks of unrecognized parameters.
    """

    fields: dict[str, str] = {}

    for name, value in pairs:
        if name not in known or value is None:
            continue

        if name in fields:
            raise invalid_request(f"{name} is given more than once")

        if not isinstance(value, str):
            raise invalid_request(f"{name} must be a string")

        if len(value) > _LIMITS.get(name, MAX_FIELD_LENGTH):
            raise invalid_request(f"{name} is too long")

        fields[name] = value

    return fields


def required(fields: Mapping[str, str], name: str) -> str:
    """The non-empty field ``name``."""

    value = fields.get(name, "")

    if not value:
        raise invalid_request(f"{name} is required")

    return value


def s256(verifier: str) -> str:
    """The S256 code challenge of ``verifier``."""

    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def pkce_matches(verifier: str, challenge: str) -> bool:
    """Whether ``verifier`` is a well-formed verifier of the S256 ``challenge``."""

    if not _VERIFIER.fullmatch(verifier):
        return False

    return hmac.compare_digest(s256(verifier), challenge)


@dataclass(frozen=True)
class AuthorizeRequest:
    """The checked parameters of a request to the sign-in page."""

    client_id: str
    redirect_uri: str
    state: str | None
    code_challenge: str


def parse_authorize(params: Mapping[str, str]) -> AuthorizeRequest:
    """Checks the authorize parameters; raises ValueError saying what is wrong."""

    if params.get("response_type") != "code":
        raise ValueError("response_type must be code")

    client_id = params.get("client_id", "")

    if not _PRINTABLE.fullmatch(client_id):
        raise ValueError("client_id is required and must be printable text")

    redirect_uri = params.get("redirect_uri", "")

    if not redirect_uri:
        raise ValueError("redirect_uri is required")

    if not is_redirect_uri(redirect_uri):
        raise ValueError(
            "redirect_uri must be an absolute http or https URL without a fragment"
        )

    if params.get("code_challenge_method") != "S256":
        raise ValueError("code_challenge_method must be S256")

    code_challenge = params.get("code_challenge", "")

    if not _S256_CHALLENGE.fullmatch(code_challenge):
        raise ValueError(
            "code_challenge is required: 43 characters of unpadded base64url"
        )

    state = params.get("state")

    if state is not None and len(state) > 1024:
        raise ValueError("state is too long")

    return AuthorizeRequest(client_id, redirect_uri, state, code_challenge)


def is_redirect_uri(uri: str) -> bool:
    """Whether ``uri`` is acceptable as a redirect_uri (RFC 6749 3.1.2)."""

    if len(uri) > 2048 or not _PRINTABLE.fullmatch(uri):
        return False

    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        # urlsplit refuses a port that is not a number from 0 to 65535.
        return False

    return (
        parts.scheme in {"http", "https"}
        and bool(parts.hostname)
        and port != 0
        and "#" not in uri
    )


def redirect_with(uri: str, params: Mapping[str, str | None]) -> str:
    """``uri`` with ``params`` added to its query; None values are left out."""

    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(name, value) for name, value in params.items() if value is not None]
    return urlunsplit(parts._replace(query=urlencode(query)))
