from typing import Any

import pytest

from cloud.errors import ApiError
from cloud.registration import is_hostname, parse_registration

INSTALLATION = "5B3C1A56-0BD4-4C53-9D3F-3B1F0C0F9E7A"


def test_a_full_registration() -> None:
    registration = parse_registration(
        {
            "installationId": INSTALLATION,
            "name": " MX-ONE lab ",
            "platform": "MiVoice MX-ONE",
            "hostname": "mx1.lab.example",
            "daemonVersion": "1.4.2+build.7",
            "somethingNew": True,
        }
    )

    assert registration.installation_id == INSTALLATION.lower()
    assert registration.name == "MX-ONE lab"
    assert registration.daemon_version == "1.4.2+build.7"


def test_only_the_installation_id_is_required() -> None:
    registration = parse_registration(
        {"installationId": INSTALLATION, "hostname": "mx1"}
    )

    assert registration.name == "mx1"
    assert registration.platform == registration.daemon_version == ""


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ([], "JSON object"),
        ({}, "installationId is required"),
        ({"installationId": " "}, "installationId is required"),
        ({"installationId": "not-a-uuid"}, "installationId must be a UUID"),
        ({"installationId": 5}, "installationId must be a string"),
        ({"name": "n" * 101}, "name must be at most 100"),
        ({"name": "a\nb"}, "name must not contain control"),
        ({"platform": ["MSL"]}, "platform must be a string"),
        ({"hostname": "bad_host!"}, "hostname must be a DNS host name"),
        ({"hostname": "-x.example"}, "hostname"),
        ({"daemonVersion": "1.0 beta"}, "daemonVersion"),
    ],
)
def test_a_bad_field_is_named(body: Any, problem: str) -> None:
    if isinstance(body, dict) and "installationId" not in body and body:
        body = {"installationId": INSTALLATION, **body}

    with pytest.raises(ApiError, match=problem) as raised:
        parse_registration(body)

    assert raised.value.status == 400


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("mx1", True),
        ("mx1.lab.example.", True),
        ("a" * 63 + ".example", True),
        ("a" * 64 + ".example", False),
        ("mx1..example", False),
        ("mx1-.example", False),
    ],
)
def test_is_hostname(name: str, ok: bool) -> None:
    assert is_hostname(name) is ok
