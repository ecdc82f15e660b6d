"""Outbound connections: to the relay (maybe through the host's proxy), and to
the local interfaces behind tunnels."""

from __future__ import annotations

import asyncio
import base64
import ssl
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from services.tunnel.catalog import LocalTarget

# A full DATA frame fits in one read.
STREAM_LIMIT = 1024 * 1024
CONNECT_TIMEOUT = 10.0


class DialError(Exception):
    """A connection that could not be made, with a reason for a person."""


@dataclass(frozen=True)
class Proxy:
    """An HTTP proxy that tunnels with CONNECT."""

    host: str
    port: int
    username: str = ""
    password: str = ""


def parse_proxy(url: str) -> Proxy | None:
    """The proxy of http://[user:pass@]host:port; None for an empty URL."""

    if not url:
        return None

    parts = urlsplit(url)

    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"{url!r} is not an http://[user:pass@]host:port proxy")

    return Proxy(
        parts.hostname,
        parts.port or 3128,
        unquote(parts.username or ""),
        unquote(parts.password or ""),
    )


def connect_request(host: str, port: int, proxy: Proxy) -> bytes:
    """The CONNECT request asking ``proxy`` for a tunnel to host:port."""

    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    lines = [f"CONNECT {authority} HTTP/1.1", f"Host: {authority}"]

    if proxy.username:
        secret = f"{proxy.username}:{proxy.password}".encode()
        lines.append(f"Proxy-Authorization: Basic {base64.b64encode(secret).decode()}")

    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def connect_status(head: bytes) -> int:
    """The status code of a proxy's answer head."""

    parts = head.split(b"\r\n", 1)[0].split(b" ", 2)

    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise DialError("the proxy answered something that is not HTTP")

    return int(parts[1])


def relay_context(ca_file: str) -> ssl.SSLContext:
    """TLS for the relay: verified against ``ca_file`` or the system's CAs."""

    context = ssl.create_default_context(cafile=ca_file or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def local_context(target: LocalTarget) -> ssl.SSLContext:
    """TLS for a local interface.

    Management interfaces on the host itself typically have self-signed
    certificates, and a connection over loopback cannot be intercepted
    off the host, so loopback targets are not verified; any other target
    must present a certificate the system trusts.
    """

    context = ssl.create_default_context()

    if target.loopback:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE

    return context


async def open_relay(
    host: str, port: int, context: ssl.SSLContext, proxy: Proxy | None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A TLS connection to the relay, through ``proxy`` when there is one."""

    try:
        if proxy is None:
            return await asyncio.wait_for(
                asyncio.open_connection(
                    host, port, ssl=context, server_hostname=host, limit=STREAM_LIMIT
                ),
                CONNECT_TIMEOUT,
            )

        return await asyncio.wait_for(
            _through_proxy(host, port, context, proxy), CONNECT_TIMEOUT
        )
    except TimeoutError:
        raise DialError(f"no answer from {host}:{port} in time") from None
    except ssl.SSLCertVerificationError as exc:
        raise DialError(
            f"the relay's certificate is not trusted: {exc.verify_message}"
        ) from None
    except ssl.SSLError as exc:
        raise DialError(f"TLS with the relay failed: {exc.reason}") from None
    except OSError as exc:
        raise DialError(
            f"cannot connect to {host}:{port}: {exc.strerror or exc}"
        ) from None


async def _through_proxy(
    host: str, port: int, context: ssl.SSLContext, proxy: Proxy
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection(
        proxy.host, proxy.port, limit=STREAM_LIMIT
    )

    try:
        writer.write(connect_request(host, port, proxy))
        head = await reader.readuntil(b"\r\n\r\n")
        status = connect_status(head)

        if status == 407:
            raise DialError("the proxy wants credentials it was not given or refused")

        if status != 200:
            raise DialError(f"the proxy refused the connection ({status})")

        await writer.start_tls(context, server_hostname=host)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        writer.close()
        raise DialError(
            "the proxy closed the connection or answered too much"
        ) from None
    except (DialError, OSError):
        writer.close()
        raise

    return reader, writer


async def open_local(
    target: LocalTarget,
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection to a tunnel's local interface (TLS for https://)."""

    return await asyncio.wait_for(
        asyncio.open_connection(
            target.host,
            target.port,
            ssl=local_context(target) if target.tls else None,
            server_hostname=target.host if target.tls else None,
            limit=STREAM_LIMIT,
        ),
        CONNECT_TIMEOUT,
    )
