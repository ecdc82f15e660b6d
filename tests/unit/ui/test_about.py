"""About: the terms page and the licences of the shipped components."""

from __future__ import annotations

from email.message import Message

import pytest
from flask.testing import FlaskClient

from services.ui.licenses import components, installed, license_of


def _metadata(**fields: str | list[str]) -> Message:
    message = Message()

    for name, value in fields.items():
        for one in value if isinstance(value, list) else [value]:
            message[name.replace("_", "-")] = one

    return message


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"License_Expression": "MIT OR Apache-2.0", "License": "x"},
            "MIT OR Apache-2.0",
        ),
        ({"License": "BSD-3-Clause"}, "BSD-3-Clause"),
        (
            {
                "License": "Copyright (c) 2010 Someone\n\nRedistribution and use...",
                "Classifier": [
                    "License :: OSI Approved :: BSD License",
                    "Programming Language :: Python",
                ],
            },
            "BSD License",
        ),
        (
            {
                "License": "UNKNOWN",
                "Classifier": ["License :: OSI Approved :: MIT License"],
            },
            "MIT License",
        ),
        (
            {"License": "Copyright 2020 A. Person\nAll rights reserved."},
            "Copyright 2020 A. Person",
        ),
        ({}, ""),
    ],
)
def test_the_stated_licence_is_read_as_briefly_as_stated(
    fields: dict[str, str | list[str]], expected: str
) -> None:
    assert license_of(_metadata(**fields)) == expected


class _Distribution:
    def __init__(self, **fields: str) -> None:
        self.metadata = _metadata(**fields)


def test_components_leave_out_the_daemon_and_duplicates_and_sort_by_name() -> None:
    found = components(
        [
            _Distribution(Name="zope", Version="1", License="ZPL-2.1"),
            _Distribution(Name="cloudlink_daemon", Version="0.1.0"),
            _Distribution(Name="Flask", Version="3.1", License="BSD-3-Clause"),
            _Distribution(Name="flask", Version="0.1", License="other"),
        ]  # type: ignore[list-item]
    )

    assert [(c.name, c.version, c.license) for c in found] == [
        ("Flask", "3.1", "BSD-3-Clause"),
        ("zope", "1", "ZPL-2.1"),
    ]


def test_the_installed_components_are_those_the_daemon_runs_on() -> None:
    names = {c.name.lower() for c in installed()}

    assert {"flask", "gunicorn", "grpcio", "paho-mqtt", "flask-babel"} <= names
    assert "cloudlink-daemon" not in names


def test_the_licenses_page_lists_every_component_with_its_licence(
    logged_in: FlaskClient,
) -> None:
    page = logged_in.get("/cld/about/licenses").get_data(as_text=True)

    for component in installed():
        assert f">{component.name}<" in page

    assert "Third-party licenses" in page


def test_about_links_to_the_terms_and_licences(logged_in: FlaskClient) -> None:
    page = logged_in.get("/cld/").get_data(as_text=True)
    terms = logged_in.get("/cld/about/terms", headers={"Accept-Language": "it"})

    assert '<a href="/cld/about/terms">Terms</a>' in page
    assert '<a href="/cld/about/licenses">Licenses</a>' in page
    assert "Condizioni d'uso" in terms.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/cld/about/terms", "/cld/about/licenses"])
def test_the_about_pages_need_a_login(client: FlaskClient, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 302
    assert "/cld/login" in response.location
