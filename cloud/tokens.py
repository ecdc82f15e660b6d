"""Access tokens: the signing key, issuing ES256 JWTs and verifying them.

Access tokens are self-contained: whoever holds the public keys (served as
a JWKS) can check one without asking the emulator, which is how the relay
admits visitors. The ``sid`` claim names the sign-in session, and so the
refresh token, an access token came from.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from cloud.seed import Account, User

log = logging.getLogger(__name__)

ALGORITHM = "ES256"

# Claims every consumer relies on; a token without one is refused.
REQUIRED_CLAIMS = ("iss", "sub", "iat", "exp", "userId", "accountId", "role", "sid")
_TEXT_CLAIMS = ("sub", "userId", "accountId", "role", "sid")


class TokenError(Exception):
    """An access token that must not be accepted."""


class SigningKeyError(RuntimeError):
    """The signing key file exists but cannot be used."""


def access_claims(
    user: User, account: Account, *, issuer: str, sid: str, issued_at: int, ttl: int
) -> dict[str, Any]:
    """The claims of an access token for ``user`` acting in ``account``."""

    return {
        "iss": issuer,
        "sub": user.user_id,
        "userId": user.user_id,
        "accountId": account.account_id,
        "accountNumber": account.number,
        "accountName": account.name,
        "accountType": account.account_type,
        "partnerId": account.partner_id,
        "role": user.role,
        "region": account.region,
        "sid": sid,
        "iat": issued_at,
        "exp": issued_at + ttl,
    }


def load_or_create_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """The P-256 signing key kept at ``path``, made on first use (mode 0600)."""

    try:
        pem = path.read_bytes()
    except FileNotFoundError:
        return _create_key(path)

    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        log.warning("Signing key %s was readable by others; now mode 0600", path)
        path.chmod(0o600)

    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise SigningKeyError(
            f"{path}: not an unencrypted PEM private key; move it away to have "
            "a new one made"
        ) from None

    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise SigningKeyError(f"{path}: not an EC P-256 key, as ES256 needs")

    return key


def _create_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)

    # Written aside and linked into place, so a reader never sees half a key
    # and two processes starting together end up sharing the first one.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)

    try:
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
            f.flush()
            os.fsync(f.fileno())
        os.link(tmp, path)
    except FileExistsError:
        return load_or_create_key(path)
    finally:
        Path(tmp).unlink(missing_ok=True)

    log.info("Made a new token signing key %s", path, extra={"key_file": str(path)})
    return key


def public_jwk(key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    """The public key as a JWK, its ``kid`` being its RFC 7638 thumbprint."""

    jwk = ECAlgorithm.to_jwk(key, as_dict=True)
    members = {name: jwk[name] for name in ("crv", "kty", "x", "y")}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True)
    digest = hashlib.sha256(canonical.encode()).digest()
    kid = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return {**members, "kid": kid, "use": "sig", "alg": ALGORITHM}


class Signer:
    """Issues access tokens with the emulator's private key."""

    def __init__(self, key: ec.EllipticCurvePrivateKey) -> None:
        self._key = key
        self._jwk = public_jwk(key.public_key())

    @property
    def kid(self) -> str:
        """The id of the signing key, as found in the JWKS."""

        return self._jwk["kid"]

    def issue(self, claims: Mapping[str, Any]) -> str:
        """A signed JWT carrying ``claims``."""

        return jwt.encode(
            dict(claims), self._key, algorithm=ALGORITHM, headers={"kid": self.kid}
        )

    def jwks(self) -> dict[str, Any]:
        """The public keys, as served at ``/.well-known/jwks.json``."""

        return {"keys": [dict(self._jwk)]}


class Verifier:
    """Checks access tokens against a JWKS and an issuer."""

    def __init__(
        self, jwks: Mapping[str, Any], issuer: str, leeway: float = 0.0
    ) -> None:
        self.issuer = issuer
        self.leeway = leeway
        self._keys: dict[str, jwt.PyJWK] = {}

        for entry in jwks.get("keys") or []:
            if entry.get("kty") == "EC" and entry.get("crv") == "P-256":
                self._keys[str(entry.get("kid", ""))] = jwt.PyJWK(entry, ALGORITHM)

        if not self._keys:
            raise ValueError("the JWKS holds no P-256 key")

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of ``token``; raises TokenError when it must be refused."""

        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            raise TokenError("not a JWT") from None

        key = self._keys.get(str(kid)) if kid is not None else None

        if key is None and kid is None and len(self._keys) == 1:
            key = next(iter(self._keys.values()))

        if key is None:
            raise TokenError("signed with an unknown key")

        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.ExpiredSignatureError:
            raise TokenError("expired") from None
        except jwt.PyJWTError as exc:
            raise TokenError(str(exc)) from None

        for name in _TEXT_CLAIMS:
            if not isinstance(claims[name], str):
                raise TokenError(f"the {name} claim is not a string")

        return claims


def verify(token: str, jwks: Mapping[str, Any], issuer: str) -> dict[str, Any]:
    """The claims of ``token`` when it is a valid access token from ``issuer``."""

    return Verifier(jwks, issuer).verify(token)
