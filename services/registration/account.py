"""The account a system is linked to, as read from the cloud's tokens."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import jwt


@dataclass(frozen=True)
class LinkedAccount:
    """Public details of the link; nothing here is a secret."""

    account_name: str = ""
    account_number: str = ""
    region: str = ""
    admin_portal_url: str = ""
    account_guid: str = ""
    partner_id: str = ""
    user_id: str = ""
    account_type: str = ""
    role: str = ""
    system_id: str = ""
    linked_at: str = ""

    def as_dict(self) -> dict[str, str]:
        """The account as stored and published."""

        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LinkedAccount:
        """An account from its stored form, ignoring unknown keys."""

        names = {f.name for f in fields(cls)}
        return cls(**{k: str(v) for k, v in data.items() if k in names})


def token_claims(access_token: str) -> dict[str, Any]:
    """The claims of an access token just received from the token endpoint.

    The signature is not checked here: the token came straight from the
    cloud's token endpoint over a verified TLS connection, and this service
    only reads it to learn which account it belongs to.
    """

    try:
        claims = jwt.decode(access_token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise ValueError(f"the access token cannot be read: {exc}") from None

    return claims if isinstance(claims, dict) else {}


def account_from_claims(claims: dict[str, Any]) -> LinkedAccount:
    """The account details a token's claims carry."""

    def claim(name: str) -> str:
        value = claims.get(name, "")
        return "" if value is None else str(value)

    return LinkedAccount(
        account_name=claim("accountName"),
        account_number=claim("accountNumber"),
        region=claim("region"),
        account_guid=claim("accountId"),
        partner_id=claim("partnerId"),
        user_id=claim("userId") or claim("sub"),
        account_type=claim("accountType"),
        role=claim("role"),
    )
