"""The dashboard's local accounts: argon2 hashes in a JSON file, and their CLI.

Usage::

    python -m services.ui.accounts add NAME          # password read from stdin
    python -m services.ui.accounts add NAME --generate
    python -m services.ui.accounts list
    python -m services.ui.accounts remove NAME

With ``--api-clients`` before the command, the same commands manage
Provisioning Manager's API clients, kept the same way in a file of their own.
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import logging
import re
import secrets
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from services.common.config import load_config
from services.common.settings import ConfigError
from services.common.state import StateStore
from services.ui.api import clients_file

log = logging.getLogger(__name__)

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
MIN_PASSWORD = 8

# Hashing is deliberately slow; a megabyte-long "password" would only burn CPU.
MAX_PASSWORD = 1024

ADMIN = "admin"

_hasher = PasswordHasher()


class AccountError(ValueError):
    """An account cannot be added or removed as asked."""


@dataclass(frozen=True)
class Account:
    """One local dashboard account."""

    name: str
    password_hash: str
    created: str

    @property
    def stamp(self) -> str:
        """A fingerprint of the password hash, kept in the session.

        It changes whenever the account is removed and added again, so the
        sessions of the old account stop working.
        """

        return hashlib.sha256(self.password_hash.encode()).hexdigest()[:16]


def load(path: Path) -> dict[str, Account]:
    """Every account in the file at ``path`` (none when there is no file)."""

    document = StateStore(path).load() or {}
    entries = document.get("accounts", {})
    found: dict[str, Account] = {}

    if not isinstance(entries, dict):
        log.error("The accounts file %s has no account list", path)
        return found

    for name, entry in entries.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("hash"), str):
            log.error("Ignoring the malformed account %r in %s", name, path)
            continue

        found[name] = Account(name, entry["hash"], str(entry.get("created", "")))

    return found


def _save(path: Path, accounts: dict[str, Account]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    entries = {
        a.name: {"hash": a.password_hash, "created": a.created}
        for a in accounts.values()
    }
    StateStore(path, mode=0o600).save({"accounts": entries})


def add(path: Path, name: str, password: str) -> Account:
    """Adds account ``name``; raises AccountError for a bad name or password."""

    if not NAME_PATTERN.fullmatch(name):
        raise AccountError(
            "A name is 1 to 64 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit"
        )

    if len(password) < MIN_PASSWORD:
        raise AccountError(f"A password needs at least {MIN_PASSWORD} characters")

    if len(password) > MAX_PASSWORD:
        raise AccountError(f"A password has at most {MAX_PASSWORD} characters")

    accounts = load(path)

    if name in accounts:
        raise AccountError(f"There is already an account {name}")

    account = Account(
        name, _hasher.hash(password), datetime.now(UTC).isoformat(timespec="seconds")
    )
    accounts[name] = account
    _save(path, accounts)
    log.info("Added account %s to %s", name, path)
    return account


def remove(path: Path, name: str) -> None:
    """Removes account ``name``; raises AccountError when there is none."""

    accounts = load(path)

    if accounts.pop(name, None) is None:
        raise AccountError(f"There is no account {name}")

    _save(path, accounts)
    log.info("Removed account %s from %s", name, path)


def authenticate(path: Path, name: str, password: str) -> Account | None:
    """The account when ``password`` is its password, else None."""

    account = load(path).get(name)

    if len(password) > MAX_PASSWORD:
        return None

    # An unknown name costs one hash check too, so the time taken does not
    # tell which names exist.
    password_hash = account.password_hash if account else _dummy_hash()

    try:
        _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return None

    return account


@cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def generate_password() -> str:
    """A random password of 20 URL-safe characters."""

    return secrets.token_urlsafe(15)


def ensure_admin(path: Path) -> str | None:
    """Creates ``admin`` with a random password when there is no account.

    Returns that password so it can be shown once, or None when the file
    already had an account.
    """

    if load(path):
        return None

    password = generate_password()
    add(path, ADMIN, password)
    return password


def _read_password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")

    password = getpass.getpass("Password: ")

    if getpass.getpass("Password again: ") != password:
        raise AccountError("The two passwords differ")

    return password


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m services.ui.accounts",
        description="Manages the dashboard's local accounts (CLD_UI_USERS_FILE).",
    )
    parser.add_argument(
        "--api-clients",
        action="store_true",
        help="manage Provisioning Manager's API clients (CLD_UI_API_CLIENTS_FILE) "
        "instead",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    add_command = commands.add_parser(
        "add", help="add an account; the password is read from stdin"
    )
    add_command.add_argument("name")
    add_command.add_argument(
        "--generate",
        action="store_true",
        help="generate a password and write it to stdout",
    )

    commands.add_parser("list", help="list the account names")

    remove_command = commands.add_parser("remove", help="remove an account")
    remove_command.add_argument("name")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs the accounts CLI; returns the exit code."""

    args = _parser().parse_args(argv)

    try:
        config = load_config()
    except ConfigError as exc:
        sys.stderr.write(f"Cannot read the settings: {exc}\n")
        return 2

    path = clients_file(config) if args.api_clients else config.users_file()

    try:
        if args.command == "list":
            for name in sorted(load(path)):
                sys.stdout.write(f"{name}\n")

        elif args.command == "add":
            password = generate_password() if args.generate else _read_password()
            add(path, args.name, password)
            sys.stderr.write(f"Added account {args.name} to {path}\n")

            if args.generate:
                sys.stdout.write(f"{password}\n")

        else:
            remove(path, args.name)
            sys.stderr.write(f"Removed account {args.name} from {path}\n")

    except AccountError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1

    return 0


if __name__ == "__main__":
    raise SystemExit(main())
