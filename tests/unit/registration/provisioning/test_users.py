from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.registration.provisioning.users import (
    CloudCopy,
    PmUser,
    check_user,
    matches,
    normalise,
)


def user(**fields: Any) -> PmUser:
    values: dict[str, Any] = {
        "extension": "2001",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@acme.example",
        "services": ("ZOOM_CLIENT",),
        **fields,
    }
    return PmUser(**values)


def test_a_complete_user_is_valid() -> None:
    assert check_user(user()) is None
    assert check_user(user(services=())) is None


@pytest.mark.parametrize(
    ("fields", "code", "named"),
    [
        ({"extension": ""}, "INVALID_USER", "extension"),
        ({"extension": "20a1"}, "INVALID_USER", "extension"),
        ({"extension": "1" * 16}, "INVALID_USER", "extension"),
        ({"first_name": ""}, "INVALID_USER", "first name"),
        ({"last_name": "x" * 65}, "INVALID_USER", "last name"),
        ({"email": "ada"}, "INVALID_EMAIL", "ada"),
        ({"email": "ada@localhost"}, "INVALID_EMAIL", "ada@localhost"),
        ({"email": "a b@acme.example"}, "INVALID_EMAIL", "a b@acme.example"),
        ({"email": "ada@acme..example"}, "INVALID_EMAIL", "ada@acme..example"),
        ({"services": ("TEAMS",)}, "UNKNOWN_SERVICE", "TEAMS"),
    ],
)
def test_an_invalid_user_is_rejected_naming_the_problem(
    fields: dict[str, Any], code: str, named: str
) -> None:
    problem = check_user(user(**fields))

    assert problem is not None
    assert problem.code == code
    assert named in problem.reason


def test_normalising_trims_and_orders() -> None:
    messy = user(extension=" 2001 ", first_name=" Ada", services=("ZOOM_CLIENT",) * 2)

    assert normalise(messy) == user()


def test_a_cloud_copy_matches_only_when_everything_is_the_same() -> None:
    copy = CloudCopy(
        "id", "2001", "Ada", "Lovelace", "ada@acme.example", ("ZOOM_CLIENT",)
    )

    assert matches(user(), copy)
    assert not matches(user(email="ADA@acme.example"), copy)
    assert not matches(user(services=()), copy)
    assert not matches(user(last_name="King"), copy)


_atoms = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=10)


@given(
    st.text("0123456789", min_size=1, max_size=15),
    _atoms,
    _atoms,
    st.lists(_atoms, min_size=1, max_size=3),
)
def test_generated_well_formed_users_are_valid(
    extension: str, first: str, local: str, labels: list[str]
) -> None:
    email = f"{local}@{'.'.join([*labels, 'example'])}"

    assert check_user(user(extension=extension, first_name=first, email=email)) is None


@given(st.text(max_size=40).filter(lambda t: "@" not in t))
def test_an_address_without_an_at_sign_is_never_valid(email: str) -> None:
    problem = check_user(user(email=email))

    assert problem is not None
    assert problem.code == "INVALID_EMAIL"
