"""Signing in: checking a password and choosing the account to act in."""

from __future__ import annotations

import secrets

import argon2

from cloud.seed import Seed, User

INCORRECT_CREDENTIALS = "The username or password is incorrect"


class SignInError(Exception):
    """A sign-in that cannot go ahead; ``reason`` says which way it failed."""

    CREDENTIALS = "credentials"
    ACCOUNT_REQUIRED = "account_required"
    WRONG_ACCOUNT = "wrong_account"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class Directory:
    """The seed's users, checked the way the cloud's sign-in checks them."""

    def __init__(self, seed: Seed) -> None:
        self.seed = seed
        self._hasher = argon2.PasswordHasher()

        # An unknown e-mail is checked against this throw-away hash, made with
        # the seed's own cost, so the answer takes as long as for a known one.
        model = next(iter(seed.users.values()), None)
        hasher = (
            argon2.PasswordHasher.from_parameters(
                argon2.extract_parameters(model.password_hash)
            )
            if model
            else self._hasher
        )
        self._decoy_hash = hasher.hash(secrets.token_urlsafe(16))

    def sign_in(self, email: str, password: str, account: str | None = None) -> User:
        """The user ``email`` is in the chosen account, once the password is right.

        ``account`` is an account number or GUID; it is needed only when the
        e-mail address belongs to several accounts.
        """

        return choose_account(self.seed, self.authenticate(email, password), account)

    def authenticate(self, email: str, password: str) -> list[User]:
        """Every user record of ``email`` whose password is ``password``."""

        candidates = self.seed.users_with_email(email)
        hashes = {user.password_hash for user in candidates} or {self._decoy_hash}
        matching = {h for h in hashes if self._verify(h, password)}
        users = [user for user in candidates if user.password_hash in matching]

        if not users:
            raise SignInError(SignInError.CREDENTIALS, INCORRECT_CREDENTIALS)

        return users

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except argon2.exceptions.VerificationError:
            return False


def choose_account(seed: Seed, users: list[User], account: str | None) -> User:
    """The one of ``users`` (records of one e-mail) that acts in ``account``."""

    email = users[0].email

    if account and account.strip():
        chosen = seed.find_account(account)
        match = [u for u in users if chosen and u.account_id == chosen.account_id]

        if not match:
            raise SignInError(
                SignInError.WRONG_ACCOUNT,
                f"{email} is not a user of account {account.strip()}",
            )

        return match[0]

    if len(users) > 1:
        raise SignInError(
            SignInError.ACCOUNT_REQUIRED,
            f"The e-mail address {email} belongs to several accounts; "
            "an account number is needed to choose one",
        )

    return users[0]
