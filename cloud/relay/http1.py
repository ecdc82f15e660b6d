"""HTTP/1.1 request heads and body framing, as the relay's ingress needs them.

The relay reads each request a visitor sends, to route it by Host, check its
token and strip the relay's own credentials before it goes down a tunnel;
bodies and everything the local server answers pass through untouched. The
framing rules refuse the ambiguous requests that smuggling relies on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie

MAX_HEAD = 64 * 1024
MAX_HEADERS = 100

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_TARGET = re.compile(rb"[\x21-\x7e]+")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})(;[^\r\n]*)?")


class HttpError(Exception):
    """A request the relay answers with an error status itself."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class RequestHead:
    """A request line and its header fields, in order."""

    method: str
    target: str
    version: str
    headers: list[tuple[str, str]] = field(default_factory=list)

    def get(self, name: str) -> str | None:
        """The value of the one field called ``name``, if any."""

        values = self.get_all(name)
        return values[0] if values else None

    def get_all(self, name: str) -> list[str]:
        """Every value of the fields called ``name``."""

        lower = name.lower()
        return [v for k, v in self.headers if k.lower() == lower]

    def remove(self, name: str) -> None:
        """Drops every field called ``name``."""

        lower = name.lower()
        self.headers = [(k, v) for k, v in self.headers if k.lower() != lower]

    def encode(self) -> bytes:
        """The head as sent on."""

        lines = [f"{self.method} {self.target} {self.version}"]
        lines.extend(f"{k}: {v}" for k, v in self.headers)
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@dataclass(frozen=True)
class Framing:
    """How the body of a request ends."""

    kind: str
    length: int = 0

    @property
    def upgrade(self) -> bool:
        """True when the connection becomes a raw byte stream after the head."""

        return self.kind == "upgrade"


NO_BODY = Framing("none")


def head_end(buffer: bytes | bytearray) -> int:
    """The index just past the blank line ending a head, or -1."""

    end = buffer.find(b"\r\n\r\n")
    return -1 if end < 0 else end + 4


def parse_head(data: bytes) -> RequestHead:
    """The request head in ``data`` (ending with its blank line)."""

    if len(data) > MAX_HEAD:
        raise HttpError(431, "The request head is too large.")

    lines = data[:-4].split(b"\r\n") if data.endswith(b"\r\n\r\n") else []

    if not lines:
        raise HttpError(400, "The request head is incomplete.")

    parts = lines[0].split(b" ")

    if len(parts) != 3 or not _TOKEN.fullmatch(parts[0]):
        raise HttpError(400, "The request line is malformed.")

    method, target, version = parts

    if not _TARGET.fullmatch(target):
        raise HttpError(400, "The request target is malformed.")

    if version not in (b"HTTP/1.1", b"HTTP/1.0"):
        raise HttpError(505, "Only HTTP/1.0 and HTTP/1.1 are served here.")

    if len(lines) - 1 > MAX_HEADERS:
        raise HttpError(431, "The request has too many header fields.")

    head = RequestHead(method.decode(), target.decode(), version.decode())

    for line in lines[1:]:
        name, colon, value = line.partition(b":")

        if not colon or not _TOKEN.fullmatch(name):
            raise HttpError(400, "A header field is malformed.")

        if b"\r" in value or b"\n" in value or b"\x00" in value:
            raise HttpError(400, "A header field value is malformed.")

        head.headers.append((name.decode(), value.strip(b" \t").decode("latin-1")))

    return head


def framing(head: RequestHead) -> Framing:
    """How the body of ``head``'s request is delimited."""

    encodings = head.get_all("Transfer-Encoding")
    lengths = head.get_all("Content-Length")

    if encodings and lengths:
        raise HttpError(400, "Both Transfer-Encoding and Content-Length are set.")

    if encodings:
        codings = [c.strip().lower() for v in encodings for c in v.split(",")]

        if codings != ["chunked"]:
            raise HttpError(501, "Only the chunked transfer coding is supported.")

        return Framing("chunked")

    if lengths:
        values = {v.strip() for v in lengths}

        if len(values) != 1 or not next(iter(values)).isdigit():
            raise HttpError(400, "The Content-Length is not valid.")

        length = int(next(iter(values)))

        if length:
            return Framing("length", length)

    if head.get("Upgrade") is not None and "upgrade" in _tokens(head, "Connection"):
        return Framing("upgrade")

    return NO_BODY


def chunk_size(line: bytes) -> int:
    """The size in a chunk-size line (without its CRLF)."""

    match = _CHUNK_SIZE.fullmatch(line)

    if match is None:
        raise HttpError(400, "A chunk size is malformed.")

    return int(match.group(1), 16)


def host_of(head: RequestHead) -> str | None:
    """The request's one Host field; two would leave the target ambiguous."""

    hosts = head.get_all("Host")

    if len(hosts) > 1:
        raise HttpError(400, "The request has more than one Host field.")

    return hosts[0] if hosts else None


def host_label(host: str | None, suffix: str) -> str | None:
    """The first label of ``host`` when it is ``<label>.<suffix>[:port]``."""

    if not host:
        return None

    name = host.strip().lower()

    if name.startswith("["):
        return None

    name = name.rpartition(":")[0] if ":" in name else name
    label, dot, rest = name.rstrip(".").partition(".")
    return label if dot and rest == suffix and label else None


def bearer_token(head: RequestHead, cookie_name: str) -> str | None:
    """The visitor's token: a bearer Authorization header, else the cookie."""

    authorization = head.get("Authorization")

    if authorization:
        scheme, _, token = authorization.partition(" ")

        if scheme.lower() == "bearer" and token.strip():
            return token.strip()

    for value in head.get_all("Cookie"):
        jar = SimpleCookie()

        try:
            jar.load(value)
        except CookieError:
            continue

        if cookie_name in jar and jar[cookie_name].value:
            return jar[cookie_name].value

    return None


def strip_credentials(head: RequestHead, cookie_name: str) -> None:
    """Removes the relay's own credentials before the head goes on.

    The local interface behind a tunnel has no business with the visitor's
    CloudLink token; its own Authorization (e.g. Basic) is left alone.
    """

    authorization = head.get("Authorization")

    if authorization and authorization.partition(" ")[0].lower() == "bearer":
        head.remove("Authorization")

    cookies = head.get_all("Cookie")

    if not cookies:
        return

    head.remove("Cookie")
    kept = [
        pair.strip()
        for value in cookies
        for pair in value.split(";")
        if pair.strip() and pair.strip().partition("=")[0].strip() != cookie_name
    ]

    if kept:
        head.headers.append(("Cookie", "; ".join(kept)))


def _tokens(head: RequestHead, name: str) -> set[str]:
    return {t.strip().lower() for v in head.get_all(name) for t in v.split(",")}
