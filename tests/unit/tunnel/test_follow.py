"""Platform messages from the inventory service, read for component ids."""

from __future__ import annotations

import pytest

from services.tunnel.follow import installed_components


def test_the_component_ids_of_a_platform_message_are_read() -> None:
    payload = {
        "id": "msl",
        "components": [
            {"id": "msl", "name": "MSL", "version": "11"},
            {"id": "mbg", "name": "MBG", "version": ""},
        ],
    }

    assert installed_components(payload) == ["msl", "mbg"]


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ({"id": "msl"}, "no list of components"),
        ({"components": {"id": "msl"}}, "no list of components"),
        ({"components": [{"name": "MSL"}]}, "a component without an id"),
        ({"components": ["msl"]}, "a component without an id"),
    ],
)
def test_a_platform_message_without_component_ids_is_refused(
    payload: dict[str, object], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        installed_components(payload)
