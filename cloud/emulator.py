"""The emulator's parts, built once per app and shared by its blueprints."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, cast

from flask import current_app

from cloud.config import CloudConfig
from cloud.directory import Directory
from cloud.expiring import Clock, ExpiringMap
from cloud.oauth import AuthorizeRequest
from cloud.seed import Account, User, load_seed
from cloud.store import CloudStore
from cloud.tokens import Signer, Verifier, access_claims, load_or_create_key

log = logging.getLogger(__name__)

# RFC 6749 recommends at most ten minutes; a browser bounces straight back,
# so a minute is plenty.
CODE_TTL = 60.0

# Long enough to look up an account number, short enough that a forgotten
# tab does not keep a checked password usable.
PENDING_TTL = 300.0


@dataclass(frozen=True)
class CodeGrant:
    """What an authorization code was issued for."""

    user_id: str
    client_id: str
    redirect_uri: str
    code_challenge: str


@dataclass(frozen=True)
class PendingSignIn:
    """A checked password waiting for the account number to be chosen.

    ``context`` is the page that asked (an AuthorizeRequest, or the admin
    page), so the sign-in cannot be finished on another one.
    """

    email: str
    user_ids: tuple[str, ...]
    context: AuthorizeRequest | str


class Emulator:
    """Seed, keys and state of one emulator instance."""

    def __init__(self, config: CloudConfig, clock: Clock = time.monotonic) -> None:
        self.config = config
        self.seed = load_seed(config.seed_path)
        self.directory = Directory(self.seed)

        config.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.signer = Signer(load_or_create_key(config.state_dir / "signing-key.pem"))
        self.verifier = Verifier(self.signer.jwks(), config.issuer)
        self.store = CloudStore(config.state_dir / "cloud.json")

        self.codes: ExpiringMap[CodeGrant] = ExpiringMap(CODE_TTL, clock)
        # Spent codes are remembered a while longer, so a replay is recognised
        # and the tokens issued for the code can be revoked (RFC 6749 4.1.2).
        self.spent_codes: ExpiringMap[str] = ExpiringMap(10 * CODE_TTL, clock)
        self.pending: ExpiringMap[PendingSignIn] = ExpiringMap(PENDING_TTL, clock)

    @property
    def token_ttl(self) -> int:
        """Access token lifetime in whole seconds."""

        return max(1, int(self.config.token_ttl))

    def account_of(self, user: User) -> Account:
        """The account ``user`` belongs to; the seed guarantees there is one."""

        account = self.seed.account(user.account_id)

        if account is None:
            raise LookupError(f"user {user.user_id} has no account in the seed")

        return account

    def tokens(self, user: User, sid: str, refresh_token: str) -> dict[str, Any]:
        """A token endpoint answer for ``user`` in session ``sid``."""

        claims = access_claims(
            user,
            self.account_of(user),
            issuer=self.config.issuer,
            sid=sid,
            issued_at=int(time.time()),
            ttl=self.token_ttl,
        )
        return {
            "access_token": self.signer.issue(claims),
            "token_type": "Bearer",
            "expires_in": self.token_ttl,
            "refresh_token": refresh_token,
        }

    def sign_in(self, user: User, grant: str) -> tuple[str, dict[str, Any]]:
        """Opens a session for ``user``: its id and the token endpoint answer."""

        session, refresh_token = self.store.open_session(
            user.user_id, user.account_id, grant
        )
        log.info(
            "User %s signed in to account %s with the %s grant",
            user.user_id,
            self.account_of(user).number,
            grant,
            extra={"sid": session.sid, "user_id": user.user_id},
        )
        return session.sid, self.tokens(user, session.sid, refresh_token)


def emulator() -> Emulator:
    """The emulator of the app handling the current request."""

    return cast(Emulator, current_app.extensions["cloud"])
