"""The one naming scheme of the MQTT bus.

Every topic is ``cld/<service>/<subject>``: the service that owns the subject
is the only one that publishes to it. Retained topics carry the latest state
so a service that starts or restarts rebuilds its view from them.
"""

from __future__ import annotations

PREFIX = "cld"
SERVICES = ("registration", "inventory", "updater", "tunnel", "ui")


def topic(service: str, subject: str) -> str:
    """The topic of ``subject`` owned by ``service``."""

    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}")

    return f"{PREFIX}/{service}/{subject}"


def status(service: str) -> str:
    """Retained online/offline of ``service``, its last will when it dies."""

    return topic(service, "status")


ALL_STATUS = f"{PREFIX}/+/status"

LINK = topic("registration", "link")
"""Retained: linked or not, with the account's public details (no secrets)."""
