"""API clients' passwords, checked once and then remembered briefly."""

from __future__ import annotations

from pathlib import Path

import pytest
from argon2 import PasswordHasher

from services.common.config import Config
from services.common.settings import load
from services.common.state import StateStore
from services.ui import accounts
from services.ui.api import clients_file
from services.ui.api.credentials import ApiClients

PASSWORD = "pm secret password"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# Verifying reads the cost from the hash: the lowest cost keeps tests quick.
_CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "api-clients.json"


def _add(path: Path, name: str = "pm", password: str = PASSWORD) -> None:
    entries = (StateStore(path).load() or {}).get("accounts", {})
    entries[name] = {"hash": _CHEAP.hash(password), "created": "2026-01-01"}
    StateStore(path).save({"accounts": entries})


def test_the_file_defaults_to_the_ui_state_and_can_be_moved(tmp_path: Path) -> None:
    default = load(Config, {"CLD_STATE_DIR": str(tmp_path)})
    moved = load(Config, {"CLD_UI_API_CLIENTS_FILE": str(tmp_path / "pm.json")})

    assert clients_file(default) == tmp_path / "ui" / "api-clients.json"
    assert clients_file(moved) == tmp_path / "pm.json"


def test_only_the_right_password_of_a_known_client_passes(path: Path) -> None:
    _add(path)
    clients = ApiClients(path)

    assert clients.verify("pm", PASSWORD)
    assert not clients.verify("pm", "wrong password")
    assert not clients.verify("someone", PASSWORD)


def test_a_verified_password_is_not_hashed_again_until_it_expires(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _add(path)
    clock = Clock()
    clients = ApiClients(path, ttl=60, clock=clock)
    hashed = []
    real = accounts.authenticate

    def counting(*args: object) -> object:
        hashed.append(args[1])
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(accounts, "authenticate", counting)

    for _ in range(5):
        assert clients.verify("pm", PASSWORD)

    assert hashed == ["pm"]

    clock.now += 61
    assert clients.verify("pm", PASSWORD)
    assert hashed == ["pm", "pm"]


def test_the_memory_never_lets_another_password_in(path: Path) -> None:
    _add(path)
    clients = ApiClients(path)
    assert clients.verify("pm", PASSWORD)

    assert not clients.verify("pm", PASSWORD + "x")
    assert not clients.verify("pm", "")


def test_a_removed_or_replaced_client_is_refused_at_once(path: Path) -> None:
    _add(path)
    clients = ApiClients(path)
    assert clients.verify("pm", PASSWORD)

    accounts.remove(path, "pm")
    assert not clients.verify("pm", PASSWORD)

    _add(path, password="a new password")
    assert not clients.verify("pm", PASSWORD)
    assert clients.verify("pm", "a new password")


def test_the_file_keeps_hashes_only(path: Path) -> None:
    accounts.add(path, "pm", PASSWORD)

    stored = StateStore(path).load()

    assert stored is not None
    assert PASSWORD not in str(stored)
    assert stored["accounts"]["pm"]["hash"].startswith("$argon2")
    assert path.stat().st_mode & 0o777 == 0o600


def test_the_accounts_cli_manages_api_clients_in_their_own_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CLD_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("CLD_UI_USERS_FILE", raising=False)
    monkeypatch.delenv("CLD_UI_API_CLIENTS_FILE", raising=False)
    clients = tmp_path / "ui" / "api-clients.json"

    assert accounts.main(["--api-clients", "add", "pm", "--generate"]) == 0
    password = capsys.readouterr().out.strip()

    assert ApiClients(clients).verify("pm", password)
    assert accounts.load(tmp_path / "ui" / "users.json") == {}

    assert accounts.main(["--api-clients", "list"]) == 0
    assert capsys.readouterr().out == "pm\n"
    assert accounts.main(["list"]) == 0
    assert capsys.readouterr().out == ""

    assert accounts.main(["--api-clients", "remove", "pm"]) == 0
    assert accounts.load(clients) == {}
