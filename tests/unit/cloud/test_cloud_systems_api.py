import time
import uuid
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from cloud.emulator import Emulator

SYSTEMS = "/2017-09-01/systems"
ACME = "63d797da-b7b3-4883-9d49-e830bb7d7be6"

Link = Callable[..., TestResponse]
SignIn = Callable[..., dict[str, Any]]


def _auth(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


def _json(response: TestResponse) -> dict[str, Any]:
    assert response.json is not None
    body: dict[str, Any] = response.json
    return body


@pytest.fixture
def access(admin_token: dict[str, Any]) -> str:
    token: str = admin_token["access_token"]
    return token


def test_linking_a_system(link: Link, access: str) -> None:
    installation = str(uuid.uuid4())
    response = link(
        access,
        installationId=installation,
        name="MX-ONE lab",
        platform="MiVoice MX-ONE",
        hostname="mx1.lab.example",
        daemonVersion="0.1.0",
    )

    assert response.status_code == 201
    system = _json(response)
    assert system["installationId"] == installation
    assert system["accountId"] == ACME
    assert system["accountNumber"] == "100001"
    assert system["accountName"] == "Acme Dental"
    assert system["region"] == "eu"
    assert system["portalUrl"] == "http://cloud.test/admin"
    assert system["createdOn"].endswith("Z")
    assert uuid.UUID(system["systemId"])
    assert response.headers["Location"].endswith(system["systemId"])


def test_linking_again_returns_the_same_system(link: Link, access: str) -> None:
    installation = str(uuid.uuid4())
    first = link(access, installationId=installation, name="one")
    again = link(access, installationId=installation.upper(), name="one")

    assert (first.status_code, again.status_code) == (201, 200)
    assert _json(again)["systemId"] == _json(first)["systemId"]


def test_a_user_who_is_not_an_admin_cannot_link(link: Link, sign_in: SignIn) -> None:
    clerk = sign_in("clerk@acme.example", "acme-clerk-1")
    response = link(clerk["access_token"], installationId="not even checked")

    assert response.status_code == 403
    assert _json(response) == {
        "error": "forbidden",
        "error_description": (
            "Only an account administrator can link a system to CloudLink"
        ),
    }


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"installationId": None}, "installationId is required"),
        ({"installationId": "x"}, "installationId must be a UUID"),
        ({"hostname": "no spaces allowed"}, "hostname"),
        ({"name": 5}, "name must be a string"),
        ({"daemonVersion": "v 1"}, "daemonVersion"),
    ],
)
def test_a_bad_field_is_named(
    link: Link, access: str, body: dict[str, Any], problem: str
) -> None:
    response = link(access, **body)

    assert response.status_code == 400
    assert problem in _json(response)["error_description"]


def test_a_body_that_is_not_json(client: FlaskClient, access: str) -> None:
    response = client.post(SYSTEMS, data="{", headers=_auth(access))

    assert response.status_code == 400
    assert _json(response)["error_description"] == "The request body is not valid JSON"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Basic YTpi"}, {"Authorization": "Bearer "}],
)
def test_no_token(client: FlaskClient, headers: dict[str, str]) -> None:
    response = client.get(SYSTEMS, headers=headers)

    assert response.status_code == 401
    assert _json(response)["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_bad_tokens(app: Flask, client: FlaskClient, access: str) -> None:
    emulator: Emulator = app.extensions["cloud"]
    claims = jwt.decode(access, options={"verify_signature": False})
    expired = emulator.signer.issue({**claims, "exp": int(time.time()) - 1})
    foreign_account = emulator.signer.issue(
        {**claims, "accountId": "00000000-0000-4000-8000-000000000000"}
    )

    for bad in ["junk", access[:-4] + "AAAA", expired, foreign_account]:
        response = client.get(SYSTEMS, headers=_auth(bad))
        assert response.status_code == 401
        assert _json(response)["error"] == "invalid_token"


def test_listing_getting_and_unlinking(
    client: FlaskClient, link: Link, access: str, sign_in: SignIn
) -> None:
    first = _json(link(access, name="one"))
    second = _json(link(access, name="two"))
    globex = sign_in("admin@globex.example", "globex-admin-1")["access_token"]
    _json(link(globex, name="elsewhere"))

    listed = _json(client.get(SYSTEMS, headers=_auth(access)))
    assert listed["count"] == 2
    assert [s["name"] for s in listed["_embedded"]["items"]] == ["one", "two"]

    got = client.get(f"{SYSTEMS}/{first['systemId']}", headers=_auth(access))
    assert _json(got) == first

    other = client.get(f"{SYSTEMS}/{first['systemId']}", headers=_auth(globex))
    assert other.status_code == 404
    assert (
        client.delete(
            f"{SYSTEMS}/{first['systemId']}", headers=_auth(globex)
        ).status_code
        == 404
    )

    deleted = client.delete(f"{SYSTEMS}/{first['systemId']}", headers=_auth(access))
    assert deleted.status_code == 204
    assert (
        client.get(f"{SYSTEMS}/{first['systemId']}", headers=_auth(access)).status_code
        == 404
    )
    assert _json(client.get(SYSTEMS, headers=_auth(access)))["_embedded"]["items"] == [
        second
    ]


def test_only_an_admin_can_unlink(
    client: FlaskClient, link: Link, access: str, sign_in: SignIn
) -> None:
    system = _json(link(access))
    clerk = sign_in("clerk@acme.example", "acme-clerk-1")["access_token"]

    response = client.delete(f"{SYSTEMS}/{system['systemId']}", headers=_auth(clerk))

    assert response.status_code == 403
    assert _json(client.get(SYSTEMS, headers=_auth(clerk)))["count"] == 1


def test_systems_survive_a_restart(
    config: Any, clock: Any, link: Link, access: str
) -> None:
    from cloud.app import create_app

    system = _json(link(access))
    client = create_app(config, clock).test_client()

    response = client.get(f"{SYSTEMS}/{system['systemId']}", headers=_auth(access))

    assert _json(response) == system


@pytest.mark.parametrize("account", [ACME, ACME.upper(), "100001"])
def test_the_callers_account(client: FlaskClient, access: str, account: str) -> None:
    response = client.get(f"/2017-09-01/accounts/{account}", headers=_auth(access))

    assert _json(response) == {
        "accountId": ACME,
        "accountNumber": "100001",
        "name": "Acme Dental",
        "accountType": "CUSTOMER",
        "partnerId": "84e964a7-485b-49b2-99d8-5fc04596509f",
        "partnerName": "Northwind Communications",
        "region": "eu",
    }


def test_another_account_is_not_found(client: FlaskClient, access: str) -> None:
    response = client.get("/2017-09-01/accounts/100002", headers=_auth(access))

    assert response.status_code == 404
    assert client.get("/2017-09-01/accounts/100001").status_code == 401
