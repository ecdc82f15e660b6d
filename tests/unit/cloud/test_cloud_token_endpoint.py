from collections.abc import Callable
from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from cloud.app import create_app
from cloud.config import CloudConfig
from cloud.emulator import CodeGrant, Emulator

TOKEN = "/2017-09-01/token"
REVOKE = "/2017-09-01/token/revoke"
REDIRECT = "http://127.0.0.1:8080/cld/link/callback"

Post = Callable[..., TestResponse]
SignIn = Callable[..., dict[str, Any]]


def _claims(access_token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(
        access_token, options={"verify_signature": False}
    )
    return claims


def _error(response: TestResponse, status: int, error: str) -> str:
    assert response.status_code == status
    assert response.json is not None
    assert response.json["error"] == error
    description: str = response.json["error_description"]
    return description


def test_password_grant(client: FlaskClient, sign_in: SignIn) -> None:
    body = sign_in("admin@acme.example", "acme-admin-1")

    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 60
    assert body["refresh_token"]
    claims = _claims(body["access_token"])
    assert claims["iss"] == "http://cloud.test"
    assert claims["accountNumber"] == "100001"
    assert claims["role"] == "ACCOUNT_ADMIN"
    assert claims["exp"] - claims["iat"] == 60
    assert claims["sid"]


def test_token_answers_are_not_cached(token: Post) -> None:
    response = token(
        grant_type="password", username="admin@acme.example", password="acme-admin-1"
    )

    assert response.headers["Cache-Control"] == "no-store"


def test_password_grant_with_a_form_body(client: FlaskClient) -> None:
    response = client.post(
        TOKEN,
        data={
            "grant_type": "password",
            "username": "clerk@acme.example",
            "password": "acme-clerk-1",
        },
    )

    assert response.status_code == 200
    assert response.json is not None
    assert _claims(response.json["access_token"])["role"] == "USER"


@pytest.mark.parametrize(
    ("username", "password"),
    [("admin@acme.example", "acme-admin-2"), ("ghost@acme.example", "acme-admin-1")],
)
def test_wrong_credentials(token: Post, username: str, password: str) -> None:
    response = token(grant_type="password", username=username, password=password)

    assert _error(response, 400, "invalid_grant") == (
        "The username or password is incorrect"
    )


def test_an_email_in_two_accounts_without_an_account(token: Post) -> None:
    response = token(
        grant_type="password", username="shared@example.com", password="shared-admin-1"
    )

    assert "several accounts" in _error(response, 400, "invalid_request")
    assert response.json is not None
    assert response.json["error_code"] == "account_required"


def test_an_email_in_two_accounts_with_a_wrong_account(token: Post) -> None:
    response = token(
        grant_type="password",
        username="shared@example.com",
        password="shared-admin-1",
        accountId="100003",
    )

    assert "100003" in _error(response, 400, "invalid_grant")


@pytest.mark.parametrize(
    ("account", "number"),
    [("100002", "100002"), ("63d797da-b7b3-4883-9d49-e830bb7d7be6", "100001")],
)
def test_an_email_in_two_accounts_with_its_account(
    sign_in: SignIn, account: str, number: str
) -> None:
    body = sign_in("shared@example.com", "shared-admin-1", accountId=account)

    assert _claims(body["access_token"])["accountNumber"] == number


def test_a_single_account_user_naming_another_account(token: Post) -> None:
    response = token(
        grant_type="password",
        username="admin@acme.example",
        password="acme-admin-1",
        accountId="100002",
    )

    assert "not a user of account 100002" in _error(response, 400, "invalid_grant")


def test_refresh_grant(token: Post, admin_token: dict[str, Any]) -> None:
    response = token(
        grant_type="refresh_token", refresh_token=admin_token["refresh_token"]
    )

    assert response.status_code == 200
    assert response.json is not None
    assert response.json["refresh_token"] == admin_token["refresh_token"]
    fresh = _claims(response.json["access_token"])
    assert fresh["sid"] == _claims(admin_token["access_token"])["sid"]


def test_a_revoked_refresh_token(
    client: FlaskClient, token: Post, admin_token: dict[str, Any]
) -> None:
    refresh_token = admin_token["refresh_token"]

    assert client.post(REVOKE, data={"token": refresh_token}).status_code == 200
    response = token(grant_type="refresh_token", refresh_token=refresh_token)

    assert _error(response, 400, "invalid_grant") == (
        "The refresh token is invalid or has been revoked"
    )


def test_an_unknown_refresh_token(token: Post) -> None:
    response = token(grant_type="refresh_token", refresh_token="made-up")

    assert _error(response, 400, "invalid_grant").startswith("The refresh token")


def test_refresh_tokens_survive_a_restart(
    config: CloudConfig, clock: Any, admin_token: dict[str, Any]
) -> None:
    client = create_app(config, clock).test_client()
    response = client.post(
        TOKEN,
        json={
            "grant_type": "refresh_token",
            "refresh_token": admin_token["refresh_token"],
        },
    )

    assert response.status_code == 200


def test_revoke_answers_200_for_unknown_tokens(client: FlaskClient) -> None:
    assert client.post(REVOKE, json={"token": "never-issued"}).status_code == 200
    response = client.post(REVOKE, json={})

    assert _error(response, 400, "invalid_request") == "token is required"


@pytest.mark.parametrize(
    ("body", "error", "problem"),
    [
        ({}, "invalid_request", "grant_type is required"),
        ({"grant_type": "client_credentials"}, "unsupported_grant_type", "grant_type"),
        ({"grant_type": "password", "username": "a@b"}, "invalid_request", "password"),
        ({"grant_type": "password", "password": "x"}, "invalid_request", "username"),
        ({"grant_type": "password", "username": 7}, "invalid_request", "string"),
        ({"grant_type": "refresh_token"}, "invalid_request", "refresh_token"),
        ({"grant_type": "authorization_code"}, "invalid_request", "code is required"),
    ],
)
def test_malformed_requests(
    token: Post, body: dict[str, Any], error: str, problem: str
) -> None:
    assert problem in _error(token(**body), 400, error)


def test_bad_json_bodies(client: FlaskClient) -> None:
    for data, problem in [("{", "not valid JSON"), ("[]", "JSON object")]:
        response = client.post(TOKEN, data=data, content_type="application/json")
        assert problem in _error(response, 400, "invalid_request")


def test_a_repeated_form_field(client: FlaskClient) -> None:
    response = client.post(
        TOKEN,
        data="grant_type=password&grant_type=refresh_token",
        content_type="application/x-www-form-urlencoded",
    )

    assert "more than once" in _error(response, 400, "invalid_request")


def test_a_huge_body_is_refused(client: FlaskClient) -> None:
    response = client.post(
        TOKEN, data={"grant_type": "password", "password": "p" * 70000}
    )

    assert response.status_code == 413
    assert response.json is not None


# The authorization code grant; codes are made here as the sign-in page makes them.


def _code(app: Flask, challenge: str, client_id: str = "cld-daemon") -> str:
    emulator: Emulator = app.extensions["cloud"]
    user = emulator.seed.users_with_email("admin@acme.example")[0]
    return emulator.codes.add(CodeGrant(user.user_id, client_id, REDIRECT, challenge))


def _exchange(token: Post, code: str, verifier: str, **changes: str) -> TestResponse:
    fields = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
        "client_id": "cld-daemon",
        **changes,
    }
    return token(**fields)


def test_code_grant(app: Flask, token: Post, pkce: tuple[str, str]) -> None:
    verifier, challenge = pkce
    response = _exchange(token, _code(app, challenge), verifier)

    assert response.status_code == 200
    assert response.json is not None
    assert _claims(response.json["access_token"])["accountNumber"] == "100001"


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"code_verifier": "x" * 43}, "code_verifier does not match"),
        ({"redirect_uri": "http://127.0.0.1:8080/other"}, "redirect_uri differs"),
        ({"client_id": "someone-else"}, "another client"),
    ],
)
def test_code_grant_mismatches(
    app: Flask,
    token: Post,
    pkce: tuple[str, str],
    changes: dict[str, str],
    problem: str,
) -> None:
    verifier, challenge = pkce
    code = _code(app, challenge)

    assert problem in _error(
        _exchange(token, code, verifier, **changes), 400, "invalid_grant"
    )
    assert "already been used" in _error(
        _exchange(token, code, verifier), 400, "invalid_grant"
    )


def test_a_code_used_twice_revokes_what_it_gave(
    app: Flask, token: Post, pkce: tuple[str, str]
) -> None:
    verifier, challenge = pkce
    code = _code(app, challenge)
    first = _exchange(token, code, verifier)
    assert first.json is not None

    second = _exchange(token, code, verifier)
    refreshed = token(
        grant_type="refresh_token", refresh_token=first.json["refresh_token"]
    )

    assert "already been used" in _error(second, 400, "invalid_grant")
    assert _error(refreshed, 400, "invalid_grant").startswith("The refresh token")


def test_an_expired_code(
    app: Flask, token: Post, pkce: tuple[str, str], clock: Any
) -> None:
    verifier, challenge = pkce
    code = _code(app, challenge)
    clock.advance(61)

    assert "invalid or has expired" in _error(
        _exchange(token, code, verifier), 400, "invalid_grant"
    )


def test_an_unknown_code(token: Post, pkce: tuple[str, str]) -> None:
    assert "invalid or has expired" in _error(
        _exchange(token, "made-up", pkce[0]), 400, "invalid_grant"
    )
