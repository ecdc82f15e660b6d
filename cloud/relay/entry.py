"""Entering a tunnel from the admin page: a one-time code becomes the cookie.

The cloud's admin page cannot set a cookie on a tunnel's host, so it sends
the browser to ``/.cld-relay/enter?code=…`` on that host. The relay trades
the code at the cloud for the visitor's access token, sets it as its
visitor cookie there, and sends the browser on to the tunnel's first page.
"""

from __future__ import annotations

import math
from urllib.parse import parse_qs, urlsplit

from cloud.relay import http1, pages

ENTRY_PATH = "/.cld-relay/enter"


def entry_code(head: http1.RequestHead) -> str | None:
    """The one-time code of a GET to the entry path, else None."""

    if head.method != "GET":
        return None

    target = urlsplit(head.target)

    if target.path != ENTRY_PATH:
        return None

    codes = parse_qs(target.query).get("code", [])
    return codes[0] if len(codes) == 1 and codes[0] else None


def visitor_cookie(name: str, token: str, lifetime: float, secure: bool) -> str:
    """The Set-Cookie value carrying the visitor's token on this host only.

    No Domain attribute: the cookie goes back to this tunnel's host and no
    other one, not even another tunnel of the same system.
    """

    parts = [
        f"{name}={token}",
        "Path=/",
        f"Max-Age={max(0, math.floor(lifetime))}",
        "HttpOnly",
        "SameSite=Lax",
    ]

    if secure:
        parts.append("Secure")

    return "; ".join(parts)


def welcome(cookie: str) -> bytes:
    """The answer that sets the cookie and leads to the tunnel's first page."""

    return pages.response(
        303,
        "Signed in; continue to the system's interface.",
        {"Location": "/", "Set-Cookie": cookie},
    )
