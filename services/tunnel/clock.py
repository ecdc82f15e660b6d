"""Clock drift against the cloud, read from the Date of an HTTP answer."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

# Tunnels (token lifetimes, TLS) break beyond this, so the dashboard warns.
WARN_AFTER = 45.0

WARNING = (
    "The system time is incorrect. This can cause connection problems. "
    "Clock drift detected: {seconds}s"
)


def drift_from_date(date: str, sent: float, received: float) -> float:
    """Cloud time minus local time, in seconds, from an answer's Date.

    ``sent`` and ``received`` are the local wall-clock times around the
    request; the answer was made between them. Date has whole seconds, so
    the cloud's time is taken as the middle of its second.
    """

    try:
        cloud = parsedate_to_datetime(date).timestamp() + 0.5
    except (TypeError, ValueError, IndexError):
        raise ValueError(f"the Date {date!r} cannot be read") from None

    return round(cloud - (sent + received) / 2, 1)


def drift_warning(drift: float) -> str:
    """The dashboard warning for ``drift``; empty when within bounds."""

    if abs(drift) <= WARN_AFTER:
        return ""

    return WARNING.format(seconds=round(abs(drift)))
