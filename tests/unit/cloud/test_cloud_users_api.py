import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from cloud.app import create_app
from cloud.config import PACKAGED_SEED, CloudConfig
from cloud.seed import SeedError, load_seed, parse_seed
from services.common.settings import load

USERS = "/2017-09-01/users"
ACME = "63d797da-b7b3-4883-9d49-e830bb7d7be6"
GLOBEX = "28e6e451-8ac3-4088-ad5f-2f9c26957ff2"

Link = Callable[..., TestResponse]
SignIn = Callable[..., dict[str, Any]]


def _auth(access_token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}", **headers}


def _json(response: TestResponse) -> dict[str, Any]:
    assert response.json is not None
    body: dict[str, Any] = response.json
    return body


@pytest.fixture
def access(admin_token: dict[str, Any]) -> str:
    token: str = admin_token["access_token"]
    return token


@pytest.fixture
def system_id(link: Link, access: str) -> str:
    return str(_json(link(access, name="MX-ONE"))["systemId"])


@pytest.fixture
def create(
    client: FlaskClient, access: str, system_id: str
) -> Callable[..., TestResponse]:
    """Posts a user of the linked system; keyword arguments override fields."""

    def post(key: str = "", token: str = "", **fields: Any) -> TestResponse:
        body = {
            "firstName": "Ada",
            "lastName": "Lovelace",
            "email": "ada@acme.example",
            "services": ["ZOOM_CLIENT"],
            "role": "NONE",
            "extension": "1000",
            "systemId": system_id,
            **fields,
        }
        headers = _auth(token or access)

        if key:
            headers["Idempotency-Key"] = key

        return client.post(USERS, json=body, headers=headers)

    return post


def test_creating_a_user(
    client: FlaskClient,
    create: Callable[..., TestResponse],
    access: str,
    system_id: str,
) -> None:
    response = create()

    assert response.status_code == 201
    user = _json(response)
    assert uuid.UUID(user["userId"])
    assert user["accountId"] == ACME
    assert user["name"] == "Ada Lovelace"
    assert user["role"] == "NONE"
    assert user["services"] == ["ZOOM_CLIENT"]
    assert user["extension"] == "1000"
    assert user["systemId"] == system_id
    assert user["createdOn"] == user["modifiedOn"]
    assert response.headers["Location"].endswith(user["userId"])

    fetched = client.get(f"{USERS}/{user['userId']}", headers=_auth(access))
    assert _json(fetched) == user


def test_listing_by_system_and_extension_in_pages(
    client: FlaskClient,
    create: Callable[..., TestResponse],
    access: str,
    system_id: str,
) -> None:
    for n in range(5):
        assert create(extension=f"20{n}", email=f"u{n}@acme.example").status_code == 201

    first = _json(
        client.get(f"{USERS}?systemId={system_id}&$top=2", headers=_auth(access))
    )
    assert first["count"] == 5
    assert [u["extension"] for u in first["_embedded"]["items"]] == ["200", "201"]

    following = first["_links"]["next"]["href"].removeprefix("http://cloud.test")
    second = _json(client.get(following, headers=_auth(access)))
    assert [u["extension"] for u in second["_embedded"]["items"]] == ["202", "203"]

    last = _json(
        client.get(f"{USERS}?systemId={system_id}&$skip=4", headers=_auth(access))
    )
    assert [u["extension"] for u in last["_embedded"]["items"]] == ["204"]
    assert "next" not in last["_links"]

    one = _json(
        client.get(f"{USERS}?systemId={system_id}&extension=203", headers=_auth(access))
    )
    assert one["count"] == 1
    assert one["_embedded"]["items"][0]["email"] == "u3@acme.example"


def test_a_retry_with_the_same_key_answers_the_first_user(
    create: Callable[..., TestResponse],
) -> None:
    first = create(key="sync-1:1000")
    again = create(key="sync-1:1000")

    assert (first.status_code, again.status_code) == (201, 200)
    assert _json(again)["userId"] == _json(first)["userId"]


def test_the_same_key_with_another_body_is_refused(
    create: Callable[..., TestResponse],
) -> None:
    create(key="sync-1:1000")
    response = create(key="sync-1:1000", firstName="Other")

    assert response.status_code == 409
    assert _json(response)["code"] == "IDEMPOTENCY_KEY_REUSED"


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"email": "not-an-address"}, "INVALID_EMAIL", "email"),
        ({"email": "two@@acme.example"}, "INVALID_EMAIL", "email"),
        ({"firstName": ""}, "INVALID_USER", "firstName"),
        ({"lastName": "x" * 65}, "INVALID_USER", "lastName"),
        ({"extension": "12a"}, "INVALID_USER", "extension"),
        ({"role": "OWNER"}, "INVALID_USER", "role"),
        ({"services": "ZOOM_CLIENT"}, "INVALID_USER", "services"),
        ({"systemId": str(uuid.uuid4())}, "INVALID_USER", "systemId"),
    ],
)
def test_a_malformed_user_is_refused_naming_the_field(
    create: Callable[..., TestResponse],
    fields: dict[str, Any],
    code: str,
    field: str,
) -> None:
    response = create(**fields)

    assert response.status_code == 400
    body = _json(response)
    assert (body["code"], body["field"]) == (code, field)
    assert field in body["message"]


def test_an_email_in_use_is_refused_whatever_its_case(
    create: Callable[..., TestResponse],
) -> None:
    create()
    response = create(extension="1001", email="ADA@Acme.Example")

    assert response.status_code == 409
    assert _json(response)["code"] == "DUPLICATE_EMAIL"


def test_an_email_of_a_sign_in_user_is_refused(
    create: Callable[..., TestResponse],
) -> None:
    response = create(email="Clerk@acme.example")

    assert response.status_code == 409
    assert _json(response)["code"] == "DUPLICATE_EMAIL"


def test_an_extension_in_use_on_the_system_is_refused(
    create: Callable[..., TestResponse],
) -> None:
    create()
    response = create(email="other@acme.example")

    assert response.status_code == 409
    assert _json(response)["code"] == "EXTENSION_IN_USE"


def test_a_service_the_account_lacks_is_refused(
    client: FlaskClient, link: Link, sign_in: SignIn
) -> None:
    globex = sign_in("admin@globex.example", "globex-admin-1")["access_token"]
    system = _json(link(globex))["systemId"]
    response = client.post(
        USERS,
        json={
            "firstName": "Gil",
            "lastName": "Globex",
            "email": "gil@globex.example",
            "services": ["ZOOM_CLIENT"],
            "systemId": system,
            "extension": "1",
        },
        headers=_auth(globex),
    )

    assert response.status_code == 403
    assert _json(response)["code"] == "SERVICE_NOT_ENTITLED"


def test_only_an_admin_may_write(
    client: FlaskClient, create: Callable[..., TestResponse], sign_in: SignIn
) -> None:
    clerk = sign_in("clerk@acme.example", "acme-clerk-1")["access_token"]

    assert create(token=clerk).status_code == 403
    assert client.get(USERS, headers=_auth(clerk)).status_code == 200
    assert client.get(USERS).status_code == 401


def test_replacing_and_deleting_a_user(
    client: FlaskClient, create: Callable[..., TestResponse], access: str
) -> None:
    user = _json(create())
    url = f"{USERS}/{user['userId']}"
    replaced = client.put(
        url,
        json={
            "firstName": "Ada",
            "lastName": "King",
            "email": "ada.king@acme.example",
            "services": [],
            "role": "NONE",
        },
        headers=_auth(access),
    )

    assert replaced.status_code == 200
    assert _json(replaced)["name"] == "Ada King"
    assert _json(replaced)["extension"] == "1000"
    assert _json(replaced)["services"] == []

    assert client.delete(url, headers=_auth(access)).status_code == 204
    assert client.delete(url, headers=_auth(access)).status_code == 404
    assert client.get(url, headers=_auth(access)).status_code == 404
    assert client.put(url, json={}, headers=_auth(access)).status_code == 404


def test_the_emulator_counts_write_requests(
    client: FlaskClient, create: Callable[..., TestResponse], access: str
) -> None:
    user = _json(create(key="k-0000001"))
    create(key="k-0000001")
    client.delete(f"{USERS}/{user['userId']}", headers=_auth(access))

    counts = _json(
        client.get("/2017-09-01/emulator/user-writes", headers=_auth(access))
    )
    assert counts == {"POST": 2, "DELETE": 1}


def _app(state_dir: Path, **settings: str) -> Flask:
    config = load(
        CloudConfig,
        {
            "CLD_CLOUD_STATE_DIR": str(state_dir),
            "CLD_CLOUD_PUBLIC_URL": "http://cloud.test",
            **settings,
        },
    )
    return create_app(config)


def _admin_and_system(client: FlaskClient) -> tuple[str, str]:
    token = _json(
        client.post(
            "/2017-09-01/token",
            json={
                "grant_type": "password",
                "username": "admin@acme.example",
                "password": "acme-admin-1",
            },
        )
    )["access_token"]
    system = _json(
        client.post(
            "/2017-09-01/systems",
            json={"installationId": str(uuid.uuid4())},
            headers=_auth(token),
        )
    )["systemId"]
    return token, system


def _user(system_id: str, n: int) -> dict[str, Any]:
    return {
        "firstName": "User",
        "lastName": str(n),
        "email": f"user{n}@acme.example",
        "services": ["ZOOM_CLIENT"],
        "extension": str(n),
        "systemId": system_id,
    }


def test_a_system_at_its_limit_gets_no_more_users(tmp_path: Path) -> None:
    client = _app(tmp_path, CLD_CLOUD_USER_LIMIT="2").test_client()
    token, system = _admin_and_system(client)
    answers = [
        client.post(USERS, json=_user(system, n), headers=_auth(token)).status_code
        for n in range(3)
    ]

    assert answers == [201, 201, 409]
    refused = client.post(USERS, json=_user(system, 9), headers=_auth(token))
    assert _json(refused)["code"] == "USER_LIMIT"


def test_users_and_keys_survive_a_restart(tmp_path: Path) -> None:
    client = _app(tmp_path).test_client()
    token, system = _admin_and_system(client)
    created = [
        _json(
            client.post(
                USERS,
                json=_user(system, n),
                headers=_auth(token, **{"Idempotency-Key": f"key-0000{n}"}),
            )
        )
        for n in range(3)
    ]
    client.delete(f"{USERS}/{created[0]['userId']}", headers=_auth(token))

    # A crash in the middle of an append leaves a line without its end.
    with (tmp_path / "users.journal").open("ab") as journal:
        journal.write(b'{"op":"delete","userId":"')

    again = _app(tmp_path).test_client()
    listed = _json(again.get(f"{USERS}?systemId={system}", headers=_auth(token)))
    assert [u["userId"] for u in listed["_embedded"]["items"]] == [
        u["userId"] for u in created[1:]
    ]

    replay = again.post(
        USERS,
        json=_user(system, 2),
        headers=_auth(token, **{"Idempotency-Key": "key-00002"}),
    )
    assert replay.status_code == 200
    assert _json(replay)["userId"] == created[2]["userId"]
    assert (tmp_path / "users.journal").read_bytes() == b""


def test_the_admin_page_lists_each_systems_synced_users(
    client: FlaskClient,
    create: Callable[..., TestResponse],
    hidden: Callable[[TestResponse, str], str],
    system_id: str,
) -> None:
    create()
    create(extension="1001", email="bob@acme.example", firstName="Bob")
    page = client.get("/admin/login")
    client.post(
        "/admin/login",
        data={
            "csrf_token": hidden(page, "csrf_token"),
            "username": "clerk@acme.example",
            "password": "acme-clerk-1",
        },
    )

    html = client.get("/admin").get_data(as_text=True)

    assert f'id="synced-{system_id}"' in html
    assert '<span class="synced-count">2</span> users' in html
    for shown in ["1001", "Bob Lovelace", "bob@acme.example", "ZOOM_CLIENT"]:
        assert shown in html


def test_the_seed_gives_accounts_their_entitlements() -> None:
    seed = load_seed(PACKAGED_SEED)

    assert seed.accounts[ACME].entitlements == {"ZOOM_CLIENT"}
    assert seed.accounts[GLOBEX].entitlements == frozenset()


@pytest.mark.parametrize("entitlements", ["ZOOM_CLIENT", ["zoom client"], [7]])
def test_malformed_entitlements_are_refused_naming_the_field(
    entitlements: Any,
) -> None:
    document = json.loads(PACKAGED_SEED.read_text())
    document["accounts"][0]["entitlements"] = entitlements

    with pytest.raises(SeedError, match=r"accounts\[0\]\.entitlements"):
        parse_seed(document, "seed.json")


def test_the_accounts_sign_in_users_are_listed_but_not_changed(
    client: FlaskClient, create: Callable[..., TestResponse], access: str
) -> None:
    create()
    listed = _json(client.get(USERS, headers=_auth(access)))
    emails = [u["email"] for u in listed["_embedded"]["items"]]

    assert listed["count"] == 4
    assert emails == [
        "admin@acme.example",
        "clerk@acme.example",
        "shared@example.com",
        "ada@acme.example",
    ]

    clerk = listed["_embedded"]["items"][1]
    url = f"{USERS}/{clerk['userId']}"
    assert _json(client.get(url, headers=_auth(access)))["role"] == "USER"
    refused = client.delete(url, headers=_auth(access))
    assert refused.status_code == 403
    assert _json(refused)["code"] == "NOT_PROVISIONED"
