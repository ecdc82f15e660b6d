"""The API's HTTP face: credentials, bodies, errors in JSON, no cookies.

No registration service listens in these tests' runtime folder, so every
call that gets past the checks meets a real gRPC "unavailable".
"""

from __future__ import annotations

import base64
import json

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from services.common.config import Config
from services.common.state import StateStore
from services.ui.api import clients_file
from services.ui.api.views import SYNC_BODY_LIMIT, USER_BODY_LIMIT
from tests.unit.ui.conftest import PASSWORD, USER

API = "/cld/api/v1"
CLIENT = "pm"

BODY = {
    "firstName": "Ada",
    "lastName": "Lovelace",
    "email": "ada@example.com",
    "services": ["ZOOM_CLIENT"],
}


def _basic(name: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{name}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture
def api_client(config: Config, cheap_hash: str) -> dict[str, str]:
    """PM's credentials, stored as the accounts CLI stores an API client."""

    entry = {"hash": cheap_hash, "created": "2026-01-01T00:00:00+00:00"}
    StateStore(clients_file(config)).save({"accounts": {CLIENT: entry}})
    return _basic(CLIENT, PASSWORD)


def _error(response: TestResponse) -> tuple[int, str, str]:
    body = response.get_json()
    assert response.mimetype == "application/json", response.get_data(as_text=True)
    return response.status_code, body["error"]["code"], body["error"]["message"]


def test_the_document_is_served_without_credentials(client: FlaskClient) -> None:
    response = client.get(f"{API}/openapi.json")

    assert response.status_code == 200
    assert response.get_json()["info"]["title"] == "CloudLink Daemon provisioning API"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/connection"),
        ("GET", "/users/4711"),
        ("PUT", "/users/4711"),
        ("DELETE", "/users/4711"),
        ("POST", "/synchronizations"),
        ("GET", "/synchronizations/s1"),
        ("GET", "/synchronization-status"),
    ],
)
def test_every_operation_asks_for_credentials(
    client: FlaskClient, method: str, path: str
) -> None:
    response = client.open(f"{API}{path}", method=method, json=BODY)

    assert _error(response)[:2] == (401, "UNAUTHORIZED")
    assert response.headers["WWW-Authenticate"].startswith('Basic realm="CloudLink')


def test_a_dashboard_login_does_not_open_the_api(
    logged_in: FlaskClient, api_client: dict[str, str]
) -> None:
    assert logged_in.get(f"{API}/synchronization-status").status_code == 401

    dashboard_account = _basic(USER, PASSWORD)
    response = logged_in.get(f"{API}/synchronization-status", headers=dashboard_account)

    assert _error(response) == (
        401,
        "UNAUTHORIZED",
        "Wrong API client name or password",
    )


def test_an_api_client_does_not_open_the_dashboard(
    client: FlaskClient, api_client: dict[str, str]
) -> None:
    response = client.get("/cld/", headers=api_client)

    assert response.status_code == 302
    assert "/cld/login" in response.location


def test_wrong_passwords_are_throttled_per_client(
    client: FlaskClient, api_client: dict[str, str]
) -> None:
    for _ in range(5):
        response = client.get(f"{API}/connection", headers=_basic(CLIENT, "nope"))
        assert response.status_code == 401

    throttled = client.get(f"{API}/connection", headers=api_client)

    status, code, message = _error(throttled)
    assert (status, code) == (429, "TOO_MANY_FAILURES")
    wait = int(throttled.headers["Retry-After"])
    assert 0 < wait <= 300
    assert message.endswith(f"try again in {wait} seconds")


def test_the_api_neither_reads_nor_sets_the_session_cookie(
    logged_in: FlaskClient, api_client: dict[str, str]
) -> None:
    response = logged_in.get(f"{API}/openapi.json")
    put = logged_in.put(f"{API}/users/4711", json=BODY, headers=api_client)

    assert "Set-Cookie" not in response.headers
    assert "Set-Cookie" not in put.headers
    assert put.headers["Cache-Control"] == "no-store"


def test_writes_need_no_csrf_token(
    client: FlaskClient, api_client: dict[str, str]
) -> None:
    # Past the CSRF check and the body checks, the call meets the absent
    # registration service.
    response = client.post(
        f"{API}/synchronizations", json={"users": []}, headers=api_client
    )

    assert _error(response)[:2] == (503, "UNAVAILABLE")
    assert response.headers["Retry-After"] == "30"


@pytest.mark.parametrize(
    ("data", "content_type", "expected"),
    [
        ("{", "application/json", (400, "MALFORMED_JSON")),
        ('{"firstName": NaN}', "application/json", (400, "MALFORMED_JSON")),
        (b"\xff\xfe", "application/json", (400, "MALFORMED_JSON")),
        (json.dumps(BODY), "text/plain", (415, "UNSUPPORTED_MEDIA_TYPE")),
        (json.dumps(BODY), None, (415, "UNSUPPORTED_MEDIA_TYPE")),
        (
            json.dumps({**BODY, "role": "admin"}),
            "application/json",
            (400, "INVALID_REQUEST"),
        ),
        (
            json.dumps({**BODY, "email": None}),
            "application/json",
            (400, "INVALID_REQUEST"),
        ),
    ],
)
def test_a_bad_body_is_refused_naming_the_problem(
    client: FlaskClient,
    api_client: dict[str, str],
    data: str | bytes,
    content_type: str | None,
    expected: tuple[int, str],
) -> None:
    headers = {**api_client}

    if content_type:
        headers["Content-Type"] = content_type

    response = client.put(f"{API}/users/4711", data=data, headers=headers)

    assert _error(response)[:2] == expected


def test_the_messages_say_what_is_wrong(
    client: FlaskClient, api_client: dict[str, str]
) -> None:
    unknown = client.put(
        f"{API}/users/4711", json={**BODY, "role": "admin"}, headers=api_client
    )
    wrong_type = client.put(
        f"{API}/users/4711",
        json={**BODY, "services": "ZOOM_CLIENT"},
        headers=api_client,
    )
    bad_path = client.get(f"{API}/users/47-11", headers=api_client)
    missing = client.post(
        f"{API}/synchronizations",
        json={"users": [{"extension": "1", **BODY}, {"extension": "2"}]},
        headers=api_client,
    )

    assert _error(unknown)[2] == (
        "body: Additional properties are not allowed ('role' was unexpected)"
    )
    assert _error(wrong_type)[2] == "body.services must be of type array, not string"
    assert _error(bad_path)[2] == 'extension "47-11" does not match ^[0-9]{1,15}$'
    assert _error(missing)[2].startswith("body.users[1]: 'firstName' is a required")


def test_only_the_synchronization_takes_a_large_body(
    client: FlaskClient, api_client: dict[str, str]
) -> None:
    users = [
        {"extension": str(1000 + n), **BODY, "email": f"user{n}@example.com"}
        for n in range(5001)
    ]
    many = json.dumps({"users": users})
    assert USER_BODY_LIMIT < len(many) < SYNC_BODY_LIMIT

    large_user = json.dumps({**BODY, "lastName": "x" * USER_BODY_LIMIT})
    too_large = client.put(
        f"{API}/users/4711",
        data=large_user,
        headers={**api_client, "Content-Type": "application/json"},
    )
    taken = client.post(
        f"{API}/synchronizations",
        data=many,
        headers={**api_client, "Content-Type": "application/json"},
    )
    huge = client.post(
        f"{API}/synchronizations",
        data=" " * (SYNC_BODY_LIMIT + 1),
        headers={**api_client, "Content-Type": "application/json"},
    )

    assert _error(too_large)[:2] == (413, "TOO_LARGE")
    assert "16384 bytes" in _error(too_large)[2]
    assert _error(taken)[:2] == (503, "UNAVAILABLE")
    assert _error(huge)[:2] == (413, "TOO_LARGE")


def test_unknown_paths_and_methods_are_answered_in_json(
    client: FlaskClient, api_client: dict[str, str]
) -> None:
    missing = client.get(f"{API}/nothing", headers=api_client)
    method = client.patch(f"{API}/users/4711", headers=api_client)

    assert _error(missing)[:2] == (404, "NOT_FOUND")
    assert _error(method)[:2] == (405, "METHOD_NOT_ALLOWED")
    assert set(method.headers["Allow"].split(", ")) >= {"GET", "PUT", "DELETE"}


def test_a_missing_registration_service_is_a_503_to_retry(
    client: FlaskClient, api_client: dict[str, str]
) -> None:
    for path in ("/connection", "/users/4711", "/synchronization-status"):
        response = client.get(f"{API}{path}", headers=api_client)
        status, code, message = _error(response)

        assert (status, code) == (503, "UNAVAILABLE")
        assert message == (
            "The registration service is not answering; try again in a moment"
        )
