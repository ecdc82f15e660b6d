"""The OpenAPI document, and requests checked against its schemas."""

from __future__ import annotations

import json

import pytest

from services.ui.api import document

USER = {
    "firstName": "Ada",
    "lastName": "Lovelace",
    "email": "ada@example.com",
    "services": ["ZOOM_CLIENT"],
}


def test_the_document_names_every_operation_the_api_serves() -> None:
    paths = document.document()["paths"]

    operations = {
        spec["operationId"]
        for item in paths.values()
        for method, spec in item.items()
        if method in ("get", "put", "post", "delete")
    }

    assert operations == {
        "checkConnection",
        "getUser",
        "putUser",
        "deleteUser",
        "startSynchronization",
        "getSynchronization",
        "getSynchronizationStatus",
    }
    assert json.loads(document.document_json()) == document.document()


def test_every_reference_in_the_document_resolves() -> None:
    text = document.PATH.read_text()
    names = set(document.document()["components"]["schemas"])

    for line in text.splitlines():
        if "#/components/schemas/" in line:
            name = line.split("#/components/schemas/")[1].split('"')[0]
            assert name in names, line


def test_a_complete_user_passes() -> None:
    document.check("UserFields", USER, "body")
    document.check("SyncRequest", {"users": [{"extension": "4711", **USER}]}, "body")


@pytest.mark.parametrize(
    ("schema", "value", "message"),
    [
        ("UserFields", [], "body must be of type object, not array"),
        (
            "UserFields",
            {k: v for k, v in USER.items() if k != "email"},
            "body: 'email' is a required property",
        ),
        (
            "UserFields",
            {**USER, "role": "admin"},
            "body: Additional properties are not allowed ('role' was unexpected)",
        ),
        (
            "UserFields",
            {**USER, "services": "ZOOM_CLIENT"},
            "body.services must be of type array, not string",
        ),
        ("UserFields", {**USER, "firstName": 7}, "body.firstName must be of type"),
        (
            "SyncRequest",
            {"users": [{"extension": "4711", **USER}, {"extension": 12, **USER}]},
            "body.users[1].extension must be of type string, not number",
        ),
        (
            "SyncRequest",
            {"users": [{"extension": "4711", **USER, "services": [True]}]},
            "body.users[0].services[0] must be of type string, not boolean",
        ),
        ("SyncRequest", {}, "body: 'users' is a required property"),
        ("Extension", "4711x", 'extension "4711x" does not match'),
    ],
)
def test_a_bad_request_is_named_where_it_goes_wrong(
    schema: str, value: object, message: str
) -> None:
    with pytest.raises(document.RequestError) as raised:
        document.check(
            schema, value, schema.lower() if schema == "Extension" else "body"
        )

    assert str(raised.value).startswith(message)


def test_content_is_left_for_the_daemon_to_judge_user_by_user() -> None:
    odd = {"extension": "12a", **USER, "email": "nope", "services": ["FAX"]}

    document.check("SyncRequest", {"users": [odd]}, "body")


def test_the_problem_nearest_the_top_is_the_one_named() -> None:
    value = {"users": "all", "extra": 1}

    with pytest.raises(document.RequestError) as raised:
        document.check("SyncRequest", value, "body")

    assert str(raised.value).startswith("body: Additional properties")
