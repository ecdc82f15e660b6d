import jwt
import pytest

from services.registration.account import (
    LinkedAccount,
    account_from_claims,
    token_claims,
)


def test_claims_become_the_account() -> None:
    token = jwt.encode(
        {
            "accountId": "6f1c-guid",
            "accountNumber": 100001,
            "accountName": "Acme Dental",
            "partnerId": "p-1",
            "userId": "u-1",
            "role": "ACCOUNT_ADMIN",
            "region": "eu",
            "accountType": "CUSTOMER",
        },
        "k" * 32,
        algorithm="HS256",
    )

    account = account_from_claims(token_claims(token))

    assert account.account_number == "100001"
    assert account.account_name == "Acme Dental"
    assert account.account_guid == "6f1c-guid"
    assert account.role == "ACCOUNT_ADMIN"
    assert account.region == "eu"


def test_an_unreadable_token_is_an_error() -> None:
    with pytest.raises(ValueError, match="cannot be read"):
        token_claims("not-a-jwt")


def test_the_stored_form_round_trips_and_ignores_unknown_keys() -> None:
    account = LinkedAccount(account_name="Acme", system_id="s-1")

    assert LinkedAccount.from_dict({**account.as_dict(), "extra": 1}) == account
