"""The third-party components shipped with the daemon, and their licences.

Read from the metadata of the installed distributions, so the list is the
one actually shipped, whatever was added or removed since.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import Message
from functools import cache
from importlib import metadata

OWN_DISTRIBUTION = "cloudlink-daemon"

# A License field longer than this is the licence's full text, not its name.
_NAME_LIMIT = 80

_CLASSIFIER = "License :: "


@dataclass(frozen=True)
class Component:
    """One third-party distribution; an empty licence was not stated."""

    name: str
    version: str
    license: str
    home_page: str


def canonical(name: str) -> str:
    """The distribution name as PyPI compares them."""

    return re.sub(r"[-_.]+", "-", name).lower()


def license_of(fields: Message) -> str:
    """The licence a distribution's metadata states, as short as it says it.

    An SPDX expression (PEP 639) is best; then a short License field; then
    the licence classifiers; then the first line of a License field that
    holds the whole text.
    """

    expression = (fields.get("License-Expression") or "").strip()

    if expression:
        return expression

    stated = (fields.get("License") or "").strip()

    if stated.upper() == "UNKNOWN":
        stated = ""

    if stated and "\n" not in stated and len(stated) <= _NAME_LIMIT:
        return stated

    classified = [
        c.split(" :: ")[-1]
        for c in fields.get_all("Classifier") or []
        if c.startswith(_CLASSIFIER) and c.count(" :: ") >= 2
    ]

    if classified:
        return ", ".join(dict.fromkeys(classified))

    if stated:
        first = stated.splitlines()[0].strip()
        return first[:_NAME_LIMIT]

    return ""


def home_page_of(fields: Message) -> str:
    """The project's web address, when the metadata gives one."""

    home = (fields.get("Home-page") or "").strip()

    if not home:
        for entry in fields.get_all("Project-URL") or []:
            label, _, url = entry.partition(",")

            if label.strip().lower() in {"homepage", "home", "source", "repository"}:
                home = url.strip()
                break

    return home if home.startswith(("https://", "http://")) else ""


def components(distributions: Iterable[metadata.Distribution]) -> list[Component]:
    """The third-party components among ``distributions``, by name."""

    found: dict[str, Component] = {}

    for distribution in distributions:
        fields: Message = distribution.metadata  # type: ignore[assignment]
        name = fields.get("Name")

        if not name or canonical(name) == OWN_DISTRIBUTION:
            continue

        # The same distribution can be reached through two path entries.
        found.setdefault(
            canonical(name),
            Component(
                name=name,
                version=fields.get("Version") or "",
                license=license_of(fields),
                home_page=home_page_of(fields),
            ),
        )

    return sorted(found.values(), key=lambda c: canonical(c.name))


@cache
def installed() -> tuple[Component, ...]:
    """The third-party components installed with this daemon.

    Read once per process: an update that changes them restarts the service.
    """

    return tuple(components(metadata.distributions()))
