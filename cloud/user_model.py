"""A user of an account as the Users API keeps and shows it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class UserFields:
    """What a caller sets on a user; the rest the cloud assigns."""

    email: str
    first_name: str
    last_name: str
    role: str
    services: tuple[str, ...]
    extension: str = ""
    system_id: str = ""


@dataclass(frozen=True)
class CloudUser:
    """A user of an account, as the Users API keeps it."""

    user_id: str
    account_id: str
    email: str
    first_name: str
    last_name: str
    role: str
    services: tuple[str, ...]
    extension: str
    system_id: str
    created_on: str
    modified_on: str

    def document(self) -> dict[str, Any]:
        """The user as the API shows it."""

        return {
            "accountId": self.account_id,
            "userId": self.user_id,
            "email": self.email,
            "firstName": self.first_name,
            "lastName": self.last_name,
            "name": f"{self.first_name} {self.last_name}".strip(),
            "role": self.role,
            "services": list(self.services),
            "extension": self.extension,
            "systemId": self.system_id,
            "createdOn": self.created_on,
            "modifiedOn": self.modified_on,
        }

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> CloudUser:
        """A user from its API document (as journalled)."""

        return cls(
            user_id=str(doc["userId"]),
            account_id=str(doc["accountId"]),
            email=str(doc["email"]),
            first_name=str(doc["firstName"]),
            last_name=str(doc["lastName"]),
            role=str(doc["role"]),
            services=tuple(str(s) for s in doc["services"]),
            extension=str(doc.get("extension", "")),
            system_id=str(doc.get("systemId", "")),
            created_on=str(doc["createdOn"]),
            modified_on=str(doc["modifiedOn"]),
        )


class UserConflict(Exception):  # noqa: N818
    """A write the account's current users do not allow, with its API code."""

    def __init__(self, code: str, message: str, field: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
