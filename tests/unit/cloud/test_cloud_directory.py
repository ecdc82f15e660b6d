import pytest

from cloud.config import PACKAGED_SEED
from cloud.directory import INCORRECT_CREDENTIALS, Directory, SignInError
from cloud.seed import load_seed


@pytest.fixture(scope="module")
def directory() -> Directory:
    return Directory(load_seed(PACKAGED_SEED))


def test_single_account_user(directory: Directory) -> None:
    user = directory.sign_in(" Admin@Acme.example ", "acme-admin-1")

    assert user.email == "admin@acme.example"
    assert user.is_admin


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("admin@acme.example", "wrong"),
        ("nobody@acme.example", "acme-admin-1"),
        ("admin@acme.example", ""),
    ],
)
def test_wrong_credentials(directory: Directory, email: str, password: str) -> None:
    with pytest.raises(SignInError) as raised:
        directory.sign_in(email, password)

    assert raised.value.reason == SignInError.CREDENTIALS
    assert raised.value.message == INCORRECT_CREDENTIALS


def test_an_email_in_two_accounts_needs_an_account(directory: Directory) -> None:
    with pytest.raises(SignInError) as raised:
        directory.sign_in("shared@example.com", "shared-admin-1")

    assert raised.value.reason == SignInError.ACCOUNT_REQUIRED
    assert "several accounts" in raised.value.message


@pytest.mark.parametrize("account", ["100002", "28E6E451-8AC3-4088-AD5F-2F9C26957FF2"])
def test_the_account_by_number_or_guid(directory: Directory, account: str) -> None:
    user = directory.sign_in("shared@example.com", "shared-admin-1", account)

    assert user.account_id == "28e6e451-8ac3-4088-ad5f-2f9c26957ff2"


@pytest.mark.parametrize(
    ("email", "password", "account"),
    [
        ("shared@example.com", "shared-admin-1", "999999"),
        ("admin@acme.example", "acme-admin-1", "100002"),
    ],
)
def test_an_account_that_is_not_the_users(
    directory: Directory, email: str, password: str, account: str
) -> None:
    with pytest.raises(SignInError) as raised:
        directory.sign_in(email, password, account)

    assert raised.value.reason == SignInError.WRONG_ACCOUNT
    assert account in raised.value.message


def test_the_password_is_checked_before_the_account(directory: Directory) -> None:
    with pytest.raises(SignInError) as raised:
        directory.sign_in("admin@acme.example", "wrong", "100002")

    assert raised.value.reason == SignInError.CREDENTIALS
