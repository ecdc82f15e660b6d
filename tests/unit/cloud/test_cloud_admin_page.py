from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

Hidden = Callable[[TestResponse, str], str]
Link = Callable[..., TestResponse]
SignIn = Callable[..., dict[str, Any]]


def _text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def admin_login(client: FlaskClient, hidden: Hidden) -> Callable[..., TestResponse]:
    """Signs in on the admin page; returns the answer to the last form."""

    def login(username: str, password: str, account: str | None = None) -> TestResponse:
        page = client.get("/admin/login")
        response = client.post(
            "/admin/login",
            data={
                "csrf_token": hidden(page, "csrf_token"),
                "username": username,
                "password": password,
            },
        )

        if account is not None:
            response = client.post(
                "/admin/login",
                data={
                    "csrf_token": hidden(response, "csrf_token"),
                    "step": "account",
                    "pending": hidden(response, "pending"),
                    "accountNumber": account,
                },
            )

        return response

    return login


def test_the_admin_page_needs_a_sign_in(client: FlaskClient) -> None:
    response = client.get("/admin")

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/login"
    assert client.get("/").headers["Location"] == "/admin"


def test_signing_in_lists_the_accounts_systems(
    client: FlaskClient,
    admin_login: Callable[..., TestResponse],
    link: Link,
    admin_token: dict[str, Any],
    sign_in: SignIn,
) -> None:
    link(
        admin_token["access_token"],
        name="MX-ONE lab",
        platform="MiVoice MX-ONE",
        hostname="mx1.lab.example",
    )
    globex = sign_in("admin@globex.example", "globex-admin-1")
    link(globex["access_token"], name="Globex PBX")

    response = admin_login("admin@acme.example", "acme-admin-1")
    assert response.headers["Location"] == "/admin"
    page = _text(client.get("/admin"))

    assert "Acme Dental" in page
    for shown in [
        "MX-ONE lab",
        "MiVoice MX-ONE",
        "mx1.lab.example",
        "admin@acme.example",
    ]:
        assert shown in page
    assert "Globex PBX" not in page
    assert "Revoke access" in page


def test_wrong_credentials(admin_login: Callable[..., TestResponse]) -> None:
    response = admin_login("admin@acme.example", "wrong")

    assert response.status_code == 200
    assert "The username or password is incorrect" in _text(response)


def test_an_email_in_two_accounts(
    client: FlaskClient, admin_login: Callable[..., TestResponse]
) -> None:
    wrong = admin_login("shared@example.com", "shared-admin-1", "123")
    assert "is not a user of account 123" in _text(wrong)

    admin_login("shared@example.com", "shared-admin-1", "100002")
    assert "Globex Logistics" in _text(client.get("/admin"))


def test_revoke_access_rejects_the_refresh_token(
    client: FlaskClient,
    admin_login: Callable[..., TestResponse],
    hidden: Hidden,
    link: Link,
    admin_token: dict[str, Any],
    sign_in: SignIn,
) -> None:
    system = link(admin_token["access_token"], name="MX-ONE lab").json
    assert system is not None
    bystander = sign_in("admin@acme.example", "acme-admin-1")
    admin_login("admin@acme.example", "acme-admin-1")
    page = client.get("/admin")

    response = client.post(
        f"/admin/systems/{system['systemId']}/revoke",
        data={"csrf_token": hidden(page, "csrf_token")},
        follow_redirects=True,
    )

    assert "Access revoked for MX-ONE lab" in _text(response)
    assert "Revoked" in _text(response)
    refreshed = client.post(
        "/2017-09-01/token",
        json={
            "grant_type": "refresh_token",
            "refresh_token": admin_token["refresh_token"],
        },
    )
    assert refreshed.status_code == 400
    assert refreshed.json is not None
    assert refreshed.json["error"] == "invalid_grant"
    untouched = client.post(
        "/2017-09-01/token",
        json={
            "grant_type": "refresh_token",
            "refresh_token": bystander["refresh_token"],
        },
    )
    assert untouched.status_code == 200


def test_revoke_needs_csrf_and_an_admin(
    client: FlaskClient,
    admin_login: Callable[..., TestResponse],
    hidden: Hidden,
    link: Link,
    admin_token: dict[str, Any],
) -> None:
    system = link(admin_token["access_token"]).json
    assert system is not None
    revoke = f"/admin/systems/{system['systemId']}/revoke"

    assert client.post(revoke).headers["Location"] == "/admin/login"

    admin_login("clerk@acme.example", "acme-clerk-1")
    page = client.get("/admin")
    assert "Revoke access" not in _text(page)
    assert client.post(revoke, data={"csrf_token": "forged"}).status_code == 400
    assert (
        client.post(revoke, data={"csrf_token": hidden(page, "csrf_token")}).status_code
        == 403
    )


def test_revoking_another_accounts_system(
    client: FlaskClient,
    admin_login: Callable[..., TestResponse],
    hidden: Hidden,
    link: Link,
    sign_in: SignIn,
) -> None:
    globex = sign_in("admin@globex.example", "globex-admin-1")
    system = link(globex["access_token"]).json
    assert system is not None
    admin_login("admin@acme.example", "acme-admin-1")
    page = client.get("/admin")

    response = client.post(
        f"/admin/systems/{system['systemId']}/revoke",
        data={"csrf_token": hidden(page, "csrf_token")},
    )

    assert response.status_code == 404


def test_sign_out(
    client: FlaskClient, admin_login: Callable[..., TestResponse], hidden: Hidden
) -> None:
    admin_login("admin@acme.example", "acme-admin-1")
    page = client.get("/admin")

    response = client.post(
        "/admin/logout", data={"csrf_token": hidden(page, "csrf_token")}
    )

    assert response.headers["Location"] == "/admin/login"
    assert client.get("/admin").status_code == 302
    assert "You are signed out" in _text(client.get("/admin/login"))


def test_the_session_cookie(
    client: FlaskClient, admin_login: Callable[..., TestResponse]
) -> None:
    response = admin_login("admin@acme.example", "acme-admin-1")
    cookie = response.headers["Set-Cookie"]

    assert cookie.startswith("cloudlink_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
