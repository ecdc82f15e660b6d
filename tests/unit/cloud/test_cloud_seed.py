import copy
import json
from pathlib import Path
from typing import Any

import argon2
import pytest

from cloud.config import PACKAGED_SEED
from cloud.seed import DEMO_LOGINS, SeedError, load_seed, parse_seed


@pytest.fixture
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(PACKAGED_SEED.read_text())
    return copy.deepcopy(loaded)


def test_packaged_seed() -> None:
    seed = load_seed(PACKAGED_SEED)

    acme = seed.find_account("100001")
    globex = seed.find_account("100002")
    assert acme
    assert globex
    assert (acme.name, acme.region) == ("Acme Dental", "eu")
    assert (globex.name, globex.region) == ("Globex Logistics", "eu")
    assert acme.partner_name == globex.partner_name == "Northwind Communications"
    assert seed.find_account(acme.account_id.upper()) == acme
    assert [u.role for u in seed.users_with_email("CLERK@acme.example")] == ["USER"]
    assert len(seed.users_with_email("shared@example.com")) == 2


def test_demo_logins_match_the_seed_hashes() -> None:
    seed = load_seed(PACKAGED_SEED)
    hasher = argon2.PasswordHasher()

    for email, password, _ in DEMO_LOGINS:
        users = seed.users_with_email(email)
        assert users, email
        assert all(hasher.verify(u.password_hash, password) for u in users)


def test_seed_holds_no_plain_passwords() -> None:
    text = PACKAGED_SEED.read_text()

    assert not any(password in text for _, password, _ in DEMO_LOGINS)


def _break(document: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    target: Any = document

    for part in parents:
        name, _, index = part.partition("[")
        target = target[name][int(index[:-1])] if index else target[name]

    target[last] = value


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("accounts", {}, "accounts"),
        ("users[0].email", "not-an-email", "users[0].email"),
        ("users[1].role", "OWNER", "users[1].role"),
        ("users[2].passwordHash", "acme-admin-1", "users[2].passwordHash"),
        ("users[0].userId", "42", "users[0].userId"),
        ("users[0].accountId", "00000000-0000-4000-8000-000000000000", "accountId"),
        ("users[3].userId", "b49c3327-4091-4ffa-89a0-2c844f38f83e", "users[3].userId"),
        ("users[3].accountId", "63d797da-b7b3-4883-9d49-e830bb7d7be6", "email"),
        ("accounts[1].accountNumber", "100001", "accounts[1].accountNumber"),
        ("accounts[0].accountNumber", "ACME", "accounts[0].accountNumber"),
        ("accounts[0].partnerId", "00000000-0000-4000-8000-000000000000", "partnerId"),
        ("accounts[0].name", "", "accounts[0].name"),
        ("accounts[0].region", 7, "accounts[0].region"),
    ],
)
def test_a_bad_seed_names_file_and_field(
    document: dict[str, Any], path: str, value: Any, field: str
) -> None:
    _break(document, path, value)

    with pytest.raises(SeedError, match=r"seed\.json: .*" + field.replace("[", r"\[")):
        parse_seed(document, "seed.json")


def test_a_seed_that_is_not_an_object() -> None:
    with pytest.raises(SeedError, match="top level"):
        parse_seed([], "seed.json")


def test_an_unreadable_seed_file(tmp_path: Path) -> None:
    with pytest.raises(SeedError, match="cannot be read"):
        load_seed(tmp_path / "missing.json")

    broken = tmp_path / "broken.json"
    broken.write_text("{")

    with pytest.raises(SeedError, match=r"broken\.json: not valid JSON"):
        load_seed(broken)
