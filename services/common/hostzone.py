"""The host's time zone, read from its files below a host root folder."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

log = logging.getLogger(__name__)

UTC_ZONE = "Etc/UTC"


class ZoneError(ValueError):
    """A time zone name that is not in the zone database."""


def zone_named(name: str) -> ZoneInfo:
    """The zone called ``name``; ZoneError naming it when there is none."""

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ZoneError(f"{name!r} is not a known time zone") from None


def host_zone_name(root: Path) -> str:
    """The IANA name of the host's zone, or Etc/UTC when it cannot be told.

    ``etc/localtime`` is what the C library reads, so its link target wins;
    ``etc/timezone`` is Debian's record of the same choice, used when
    ``etc/localtime`` is a copied file rather than a link.
    """

    try:
        target = os.readlink(root / "etc" / "localtime")
    except OSError:
        target = ""

    marker = "zoneinfo/"

    if marker in target:
        name = target.split(marker, 1)[1]

        if _known(name):
            return name

    try:
        name = (root / "etc" / "timezone").read_text().strip()
    except (OSError, UnicodeDecodeError):
        name = ""

    if name and _known(name):
        return name

    return UTC_ZONE


def _known(name: str) -> bool:
    try:
        zone_named(name)
    except ZoneError:
        log.warning("The host names the unknown time zone %r", name)
        return False

    return True
