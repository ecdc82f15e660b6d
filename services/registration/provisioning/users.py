"""Users as Provisioning Manager describes them, and what makes one valid."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# The services a user provisioned from MX-ONE can be given. Users of the Zoom
# client against MX-ONE get ZOOM_CLIENT and the CloudLink role "None".
KNOWN_SERVICES = frozenset({"ZOOM_CLIENT"})

ROLE = "NONE"

NAME_MAX = 64
EMAIL_MAX = 254

_EXTENSION = re.compile(r"[0-9]{1,15}")

# A practical subset of RFC 5322: a dot-atom local part and a domain of at
# least two labels, which is what Zoom accepts for a sign-in.
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
)


@dataclass(frozen=True)
class PmUser:
    """One user of Provisioning Manager's list; the extension identifies it."""

    extension: str
    first_name: str
    last_name: str
    email: str
    services: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """The user as stored with its sync."""

        return {
            "extension": self.extension,
            "firstName": self.first_name,
            "lastName": self.last_name,
            "email": self.email,
            "services": list(self.services),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PmUser:
        """A user from its stored form."""

        return cls(
            extension=str(data["extension"]),
            first_name=str(data["firstName"]),
            last_name=str(data["lastName"]),
            email=str(data["email"]),
            services=tuple(str(s) for s in data["services"]),
        )

    def cloud_body(self, system_id: str) -> dict[str, Any]:
        """The Users API body creating this user for ``system_id``."""

        return {
            "firstName": self.first_name,
            "lastName": self.last_name,
            "email": self.email,
            "services": list(self.services),
            "role": ROLE,
            "extension": self.extension,
            "systemId": system_id,
        }


@dataclass(frozen=True)
class CloudCopy:
    """A user as the cloud holds it for this system."""

    user_id: str
    extension: str
    first_name: str
    last_name: str
    email: str
    services: tuple[str, ...]
    role: str = ROLE
    modified_on: str = ""

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> CloudCopy:
        """A user from the Users API's document; KeyError when incomplete."""

        return cls(
            user_id=str(doc["userId"]),
            extension=str(doc.get("extension") or ""),
            first_name=str(doc.get("firstName") or ""),
            last_name=str(doc.get("lastName") or ""),
            email=str(doc.get("email") or ""),
            services=tuple(str(s) for s in doc.get("services") or ()),
            role=str(doc.get("role") or ""),
            modified_on=str(doc.get("modifiedOn") or ""),
        )

    def as_pm_user(self) -> PmUser:
        """The user in Provisioning Manager's terms."""

        return PmUser(
            self.extension, self.first_name, self.last_name, self.email, self.services
        )


@dataclass(frozen=True)
class Rejection:
    """Why a user cannot be provisioned: a stable code and a sentence."""

    code: str
    reason: str


def normalise(user: PmUser) -> PmUser:
    """``user`` with outer blanks trimmed and services in a stable order."""

    return PmUser(
        extension=user.extension.strip(),
        first_name=user.first_name.strip(),
        last_name=user.last_name.strip(),
        email=user.email.strip(),
        services=tuple(sorted(set(user.services))),
    )


def valid_extension(extension: str) -> bool:
    """Whether ``extension`` is an extension number: 1 to 15 digits."""

    return _EXTENSION.fullmatch(extension) is not None


def check_user(user: PmUser) -> Rejection | None:
    """What is wrong with a (normalised) user; None when it can be provisioned."""

    if not valid_extension(user.extension):
        return Rejection(
            "INVALID_USER",
            f"The extension {user.extension!r} is not 1 to 15 digits.",
        )

    for label, value in (
        ("first name", user.first_name),
        ("last name", user.last_name),
    ):
        if not value:
            return Rejection("INVALID_USER", f"The {label} is empty.")

        if len(value) > NAME_MAX:
            return Rejection(
                "INVALID_USER", f"The {label} is longer than {NAME_MAX} characters."
            )

    if len(user.email) > EMAIL_MAX or not _EMAIL.fullmatch(user.email):
        return Rejection(
            "INVALID_EMAIL", f"{user.email!r} is not a valid e-mail address."
        )

    unknown = [s for s in user.services if s not in KNOWN_SERVICES]

    if unknown:
        return Rejection(
            "UNKNOWN_SERVICE",
            f"The service {unknown[0]!r} is unknown; known: "
            f"{', '.join(sorted(KNOWN_SERVICES))}.",
        )

    return None


def matches(user: PmUser, copy: CloudCopy) -> bool:
    """Whether the cloud's copy already says what PM says about the user."""

    return (
        copy.first_name == user.first_name
        and copy.last_name == user.last_name
        and copy.email == user.email
        and tuple(sorted(copy.services)) == user.services
        and copy.role == ROLE
    )
