"""The dashboard's and the API's first logins, made once and shown on every run."""

from __future__ import annotations

import os
from pathlib import Path

from services.ui.accounts import (
    ADMIN,
    add,
    authenticate,
    ensure_admin,
    generate_password,
    load,
)

# The API client made for Provisioning Manager on a first run.
API_CLIENT = "provisioning-manager"


def dashboard_password(users_file: Path, login_file: Path) -> str | None:
    """The admin's password: generated now, or kept from an earlier run.

    None when no kept password signs in any more: the account was changed or
    made by other means since.
    """

    created = ensure_admin(users_file)

    if created is not None:
        _keep(login_file, ADMIN, created)
        return created

    kept = _kept(login_file)

    if kept is None or authenticate(users_file, ADMIN, kept) is None:
        return None

    return kept


def api_client_password(clients_file: Path, login_file: Path) -> str | None:
    """The PM API client's password: generated now, or kept from an earlier run.

    None when no kept password is accepted any more, or API clients were
    made by other means.
    """

    if not load(clients_file):
        password = generate_password()
        add(clients_file, API_CLIENT, password)
        _keep(login_file, API_CLIENT, password)
        return password

    kept = _kept(login_file)

    if kept is None or authenticate(clients_file, API_CLIENT, kept) is None:
        return None

    return kept


def _keep(login_file: Path, name: str, password: str) -> None:
    login_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(login_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)

    # A file left by an earlier run keeps its old mode through O_CREAT.
    os.fchmod(fd, 0o600)

    with os.fdopen(fd, "w") as f:
        f.write(f"user: {name}\npassword: {password}\n")


def _kept(login_file: Path) -> str | None:
    try:
        lines = login_file.read_text().splitlines()
    except FileNotFoundError:
        return None

    for line in lines:
        key, _, value = line.partition(": ")

        if key == "password" and value:
            return value

    return None
