"""Checking a system registration request, without I/O."""

from __future__ import annotations

import re
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from cloud.errors import invalid_request

_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
_VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z.+_~-]{0,63}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Registration:
    """The checked body of ``POST /systems``."""

    installation_id: str
    name: str
    platform: str
    hostname: str
    daemon_version: str

    def details(self) -> dict[str, str]:
        """The fields as keyword arguments of the store's ``link_system``."""

        return asdict(self)


def parse_registration(body: Any) -> Registration:
    """Checks a registration body; raises a 400 ApiError naming the bad field."""

    if not isinstance(body, dict):
        raise invalid_request("The request body must be a JSON object")

    installation_id = _text(body, "installationId", required=True)

    try:
        installation_id = str(uuid.UUID(installation_id))
    except ValueError:
        raise invalid_request("installationId must be a UUID") from None

    hostname = _text(body, "hostname")

    if hostname and not is_hostname(hostname):
        raise invalid_request("hostname must be a DNS host name")

    daemon_version = _text(body, "daemonVersion")

    if daemon_version and not _VERSION.fullmatch(daemon_version):
        raise invalid_request("daemonVersion must be a version such as 1.4.2")

    return Registration(
        installation_id=installation_id,
        name=_text(body, "name", limit=100) or hostname,
        platform=_text(body, "platform", limit=64),
        hostname=hostname,
        daemon_version=daemon_version,
    )


def is_hostname(name: str) -> bool:
    """Whether ``name`` is a host name by RFC 1123 (a final dot allowed)."""

    labels = name.removesuffix(".").split(".")
    return len(name) <= 253 and all(_HOST_LABEL.fullmatch(label) for label in labels)


def _text(
    body: dict[str, Any], field: str, required: bool = False, limit: int = 253
) -> str:
    value = body.get(field)

    if value is None:
        if required:
            raise invalid_request(f"{field} is required")

        return ""

    if not isinstance(value, str):
        raise invalid_request(f"{field} must be a string")

    value = value.strip()

    if required and not value:
        raise invalid_request(f"{field} is required")

    if len(value) > limit:
        raise invalid_request(f"{field} must be at most {limit} characters")

    if _CONTROL.search(value):
        raise invalid_request(f"{field} must not contain control characters")

    return value
