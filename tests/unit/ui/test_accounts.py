"""Local accounts, their file, their CLI and the first admin."""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path

import pytest

from services.ui import accounts
from services.ui.accounts import AccountError


@pytest.fixture
def users(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "ui" / "users.json"
    monkeypatch.setenv("CLD_UI_USERS_FILE", str(path))
    return path


def _cli(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *argv: str,
    stdin: str = "",
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = accounts.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_an_added_account_logs_in_with_its_password_only(users: Path) -> None:
    accounts.add(users, "alice", "s3cret-enough")

    assert accounts.authenticate(users, "alice", "s3cret-enough") is not None
    assert accounts.authenticate(users, "alice", "s3cret-enougH") is None
    assert accounts.authenticate(users, "bob", "s3cret-enough") is None


def test_the_file_holds_argon2_hashes_readable_by_the_owner_only(
    users: Path,
) -> None:
    accounts.add(users, "alice", "s3cret-enough")

    stored = json.loads(users.read_text())["accounts"]["alice"]["hash"]
    assert stored.startswith("$argon2id$")
    assert "s3cret-enough" not in users.read_text()
    assert stat.S_IMODE(users.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("name", "password", "problem"),
    [
        ("", "long enough", "A name is"),
        ("-x", "long enough", "A name is"),
        ("a b", "long enough", "A name is"),
        ("alice", "short", "at least 8"),
        ("alice", "x" * 1025, "at most 1024"),
    ],
)
def test_bad_names_and_passwords_are_refused(
    users: Path, name: str, password: str, problem: str
) -> None:
    with pytest.raises(AccountError, match=problem):
        accounts.add(users, name, password)


def test_a_name_is_added_once(users: Path) -> None:
    accounts.add(users, "alice", "s3cret-enough")

    with pytest.raises(AccountError, match="already an account alice"):
        accounts.add(users, "alice", "other-password")


def test_the_cli_adds_lists_and_removes(
    users: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _cli(monkeypatch, capsys, "add", "alice", stdin="s3cret-enough\n")
    assert code == 0
    assert "Added account alice" in err
    assert accounts.authenticate(users, "alice", "s3cret-enough") is not None

    code, out, _ = _cli(monkeypatch, capsys, "add", "bob", "--generate")
    assert code == 0
    generated = out.strip()
    assert len(generated) >= 16
    assert accounts.authenticate(users, "bob", generated) is not None

    assert _cli(monkeypatch, capsys, "list") == (0, "alice\nbob\n", "")

    code, _, err = _cli(monkeypatch, capsys, "remove", "alice")
    assert code == 0
    assert "Removed account alice" in err
    assert _cli(monkeypatch, capsys, "list")[1] == "bob\n"


def test_the_cli_explains_refusals(
    users: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _cli(monkeypatch, capsys, "remove", "nobody")
    assert (code, out) == (1, "")
    assert "There is no account nobody" in err

    code, _, err = _cli(monkeypatch, capsys, "add", "alice", stdin="short\n")
    assert code == 1
    assert "at least 8" in err
    assert not users.exists()


def test_the_cli_names_a_bad_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CLD_LOG_LEVEL", "chatty")

    code, _, err = _cli(monkeypatch, capsys, "list")

    assert code == 2
    assert "CLD_LOG_LEVEL" in err


def test_ensure_admin_creates_admin_once(users: Path) -> None:
    password = accounts.ensure_admin(users)

    assert password is not None
    assert accounts.authenticate(users, "admin", password) is not None
    assert accounts.ensure_admin(users) is None
    assert list(accounts.load(users)) == ["admin"]


def test_ensure_admin_leaves_existing_accounts_alone(users: Path) -> None:
    accounts.add(users, "alice", "s3cret-enough")

    assert accounts.ensure_admin(users) is None
    assert list(accounts.load(users)) == ["alice"]


def test_malformed_entries_are_skipped(users: Path) -> None:
    users.parent.mkdir(parents=True)
    users.write_text(json.dumps({"accounts": {"alice": "oops", "bob": {"hash": 1}}}))

    assert accounts.load(users) == {}
    assert accounts.authenticate(users, "alice", "oops") is None
