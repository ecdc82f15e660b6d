"""The dashboard login: generated on the first run, shown again on later ones."""

from __future__ import annotations

import stat
from pathlib import Path

from services.ui import accounts
from supervisor.login import dashboard_password


def test_the_generated_password_is_kept_privately_and_shown_again(
    tmp_path: Path,
) -> None:
    users, kept = tmp_path / "state" / "users.json", tmp_path / "login.txt"

    first = dashboard_password(users, kept)

    assert first is not None
    assert accounts.authenticate(users, "admin", first) is not None
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert dashboard_password(users, kept) == first


def test_a_password_changed_since_is_not_shown(tmp_path: Path) -> None:
    users, kept = tmp_path / "users.json", tmp_path / "login.txt"
    dashboard_password(users, kept)

    accounts.remove(users, "admin")
    accounts.add(users, "admin", "another-password")

    assert dashboard_password(users, kept) is None


def test_accounts_made_elsewhere_are_left_alone(tmp_path: Path) -> None:
    users, kept = tmp_path / "users.json", tmp_path / "login.txt"
    accounts.add(users, "ops", "ops-password")

    assert dashboard_password(users, kept) is None
    assert not kept.exists()
    assert list(accounts.load(users)) == ["ops"]
