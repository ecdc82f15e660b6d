"""The partners, accounts and users the emulator serves, read from a seed file.

The packaged seed (``cloud/seed.json``) holds these demo sign-ins:

- ``admin@acme.example`` / ``acme-admin-1``: administrator of Acme Dental
  (account 100001); can link a system.
- ``clerk@acme.example`` / ``acme-clerk-1``: plain user of Acme Dental; the
  cloud refuses to let them link a system.
- ``shared@example.com`` / ``shared-admin-1``: administrator of both Acme
  Dental and Globex Logistics; the sign-in asks for an account number.
- ``admin@globex.example`` / ``globex-admin-1``: administrator of Globex
  Logistics (account 100002).

The seed stores only argon2 hashes of these passwords. As in CloudLink, a
user belongs to one account: an e-mail address in two accounts is two users,
each with their own user id and role.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import argon2

ROLES = frozenset({"ACCOUNT_ADMIN", "USER"})

DEMO_LOGINS: list[tuple[str, str, str]] = [
    ("admin@acme.example", "acme-admin-1", "an administrator who can link"),
    ("clerk@acme.example", "acme-clerk-1", "a user the cloud refuses to link"),
    (
        "shared@example.com",
        "shared-admin-1",
        "an e-mail in two accounts: asks for 100001 or 100002",
    ),
    ("admin@globex.example", "globex-admin-1", "an administrator of another account"),
]

_ACCOUNT_NUMBER = re.compile(r"[0-9]{1,20}")
_REGION = re.compile(r"[a-z][a-z0-9-]{0,31}")
_ACCOUNT_TYPE = re.compile(r"[A-Z][A-Z_]{0,31}")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}")
_SERVICE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")


class SeedError(ValueError):
    """A seed file that cannot be served, naming the file and the field."""


@dataclass(frozen=True)
class Partner:
    """A partner (reseller) that accounts belong to."""

    partner_id: str
    name: str


@dataclass(frozen=True)
class Account:
    """A customer account that systems are linked to."""

    account_id: str
    number: str
    name: str
    account_type: str
    partner_id: str
    partner_name: str
    region: str
    # The services the account may give its users, such as ZOOM_CLIENT.
    entitlements: frozenset[str] = frozenset()


@dataclass(frozen=True)
class User:
    """A user of one account, with that account's role."""

    user_id: str
    account_id: str
    email: str
    name: str
    role: str
    password_hash: str

    @property
    def is_admin(self) -> bool:
        """Whether the user administers their account."""

        return self.role == "ACCOUNT_ADMIN"


@dataclass(frozen=True)
class Seed:
    """Everything the seed file declares, indexed for look-ups."""

    partners: dict[str, Partner]
    accounts: dict[str, Account]
    users: dict[str, User]

    def account(self, account_id: str) -> Account | None:
        """The account with this GUID."""

        return self.accounts.get(account_id.lower())

    def user(self, user_id: str) -> User | None:
        """The user with this id."""

        return self.users.get(user_id.lower())

    def users_with_email(self, email: str) -> list[User]:
        """Every user record of this e-mail address, one per account."""

        wanted = email.strip().lower()
        return [user for user in self.users.values() if user.email == wanted]

    def find_account(self, reference: str) -> Account | None:
        """The account named by its number ("100001") or its GUID."""

        wanted = reference.strip().lower()

        for account in self.accounts.values():
            if wanted in (account.number, account.account_id):
                return account

        return None


def load_seed(path: Path) -> Seed:
    """Reads and checks the seed file at ``path``."""

    try:
        document = json.loads(path.read_bytes())
    except OSError as exc:
        raise SeedError(f"{path}: cannot be read: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SeedError(f"{path}: not valid JSON: {exc}") from None

    return parse_seed(document, str(path))


def parse_seed(document: Any, source: str) -> Seed:
    """Checks a decoded seed document; ``source`` names it in errors."""

    reader = _Reader(source)

    if not isinstance(document, dict):
        reader.fail("(top level)", "must be a JSON object")

    partners: dict[str, Partner] = {}

    for where, item in reader.objects(document, "partners"):
        partner_id = reader.guid(item, where, "partnerId")
        reader.unique(partner_id, partners, where, "partnerId")
        partners[partner_id] = Partner(partner_id, reader.text(item, where, "name"))

    accounts: dict[str, Account] = {}
    numbers: set[str] = set()

    for where, item in reader.objects(document, "accounts"):
        account_id = reader.guid(item, where, "accountId")
        reader.unique(account_id, accounts, where, "accountId")
        number = reader.text(item, where, "accountNumber", _ACCOUNT_NUMBER)
        reader.unique(number, numbers, where, "accountNumber")
        numbers.add(number)
        partner_id = reader.guid(item, where, "partnerId")

        if partner_id not in partners:
            reader.fail(f"{where}.partnerId", f"no partner has the id {partner_id}")

        accounts[account_id] = Account(
            account_id=account_id,
            number=number,
            name=reader.text(item, where, "name"),
            account_type=reader.text(item, where, "accountType", _ACCOUNT_TYPE),
            partner_id=partner_id,
            partner_name=partners[partner_id].name,
            region=reader.text(item, where, "region", _REGION),
            entitlements=reader.entitlements(item, where),
        )

    users: dict[str, User] = {}
    memberships: set[tuple[str, str]] = set()

    for where, item in reader.objects(document, "users"):
        user = reader.user(item, where)
        reader.unique(user.user_id, users, where, "userId")

        if user.account_id not in accounts:
            reader.fail(
                f"{where}.accountId", f"no account has the id {user.account_id}"
            )

        reader.unique((user.email, user.account_id), memberships, where, "email")
        memberships.add((user.email, user.account_id))
        users[user.user_id] = user

    return Seed(partners, accounts, users)


class _Reader:
    """Field accessors that fail with the file and the field's path."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> NoReturn:
        raise SeedError(f"{self.source}: {where}: {problem}")

    def objects(
        self, document: dict[str, Any], key: str
    ) -> list[tuple[str, dict[str, Any]]]:
        items = document.get(key)

        if not isinstance(items, list):
            self.fail(key, "must be a list")

        for index, item in enumerate(items):
            if not isinstance(item, dict):
                self.fail(f"{key}[{index}]", "must be a JSON object")

        return [(f"{key}[{index}]", item) for index, item in enumerate(items)]

    def text(
        self,
        item: dict[str, Any],
        where: str,
        key: str,
        pattern: re.Pattern[str] | None = None,
    ) -> str:
        value = item.get(key)

        if not isinstance(value, str) or not value.strip():
            self.fail(f"{where}.{key}", "must be a non-empty string")

        if pattern is not None and not pattern.fullmatch(value):
            self.fail(f"{where}.{key}", f"{value!r} does not match {pattern.pattern}")

        return value.strip()

    def guid(self, item: dict[str, Any], where: str, key: str) -> str:
        value = self.text(item, where, key)

        try:
            return str(uuid.UUID(value))
        except ValueError:
            self.fail(f"{where}.{key}", f"{value!r} is not a GUID")

    def entitlements(self, item: dict[str, Any], where: str) -> frozenset[str]:
        names = item.get("entitlements", [])

        if not isinstance(names, list) or not all(
            isinstance(name, str) and _SERVICE.fullmatch(name) for name in names
        ):
            self.fail(
                f"{where}.entitlements", "must be a list of service names (ZOOM_CLIENT)"
            )

        return frozenset(names)

    def unique(self, value: Any, seen: Any, where: str, key: str) -> None:
        if value in seen:
            self.fail(f"{where}.{key}", "is a duplicate of an earlier entry")

    def user(self, item: dict[str, Any], where: str) -> User:
        role = self.text(item, where, "role")

        if role not in ROLES:
            self.fail(f"{where}.role", f"must be one of {', '.join(sorted(ROLES))}")

        password_hash = self.text(item, where, "passwordHash")

        try:
            argon2.extract_parameters(password_hash)
        except argon2.exceptions.InvalidHashError:
            self.fail(f"{where}.passwordHash", "is not an argon2 hash")

        return User(
            user_id=self.guid(item, where, "userId"),
            account_id=self.guid(item, where, "accountId"),
            email=self.text(item, where, "email", _EMAIL).lower(),
            name=self.text(item, where, "name"),
            role=role,
            password_hash=password_hash,
        )
