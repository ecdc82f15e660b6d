"""The relay's own answers to visitors: short HTML pages with a status."""

from __future__ import annotations

import html
from http import HTTPStatus

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1><p>{message}</p><p><small>CloudLink relay</small></p></body>
</html>
"""

TITLES = {
    400: "Bad request",
    401: "Sign-in required",
    404: "No such tunnel",
    431: "Request head too large",
    501: "Not supported",
    502: "Tunnel unavailable",
    505: "HTTP version not supported",
}


def response(status: int, message: str, headers: dict[str, str] | None = None) -> bytes:
    """A complete HTTP/1.1 response carrying a page, closing the connection."""

    title = TITLES.get(status, HTTPStatus(status).phrase)
    body = _PAGE.format(title=html.escape(title), message=html.escape(message)).encode()
    fields = {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Length": str(len(body)),
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'",
        "Connection": "close",
        **(headers or {}),
    }
    head = f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in fields.items()
    )
    return head.encode("latin-1") + b"\r\n" + body
