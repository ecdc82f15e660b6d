"""Outbound connections: to the relay (maybe through the host's proxy), and to
the local interfaces behind tunnels."""

from __future__ import annotations

import asyncio
import base64
import ssl
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from services.tunnel.catalog import LocalTarget
from services.tunnel.link import FrameLink, open_link, upgrade_link
from services.tunnel.local import LocalLink

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

    # The message leaves out the URL itself: it may hold a password.
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError("expected an http://[user:pass@]host:port proxy URL")

    try:
        port = parts.port or 3128
    except ValueError:
        raise ValueError("the proxy URL has an invalid port") from None

    return Proxy(
        parts.hostname,
        port,
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
) -> FrameLink:
    """A TLS connection to the relay, through ``proxy`` when there is one."""

    try:
        if proxy is None:
            return await asyncio.wait_for(
                open_link(host, port, context, host), CONNECT_TIMEOUT
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


class _ProxyAnswer(asyncio.Protocol):
    """Collects a proxy's answer head to CONNECT, then lets TLS take over."""

    MAX_HEAD = 16 * 1024

    def __init__(self) -> None:
        self.head: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._data = bytearray()

    def data_received(self, data: bytes) -> None:
        self._data += data

        if self.head.done():
            return

        if b"\r\n\r\n" in self._data:
            self.head.set_result(bytes(self._data))
        elif len(self._data) > self.MAX_HEAD:
            self.head.set_exception(DialError("the proxy answered too much"))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.head.done():
            self.head.set_exception(
                DialError("the proxy closed the connection before answering")
            )


async def _through_proxy(
    host: str, port: int, context: ssl.SSLContext, proxy: Proxy
) -> FrameLink:
    loop = asyncio.get_running_loop()

    try:
        transport, answer = await loop.create_connection(
            _ProxyAnswer, proxy.host, proxy.port
        )
    except OSError as exc:
        raise DialError(
            f"cannot connect to the proxy {proxy.host}:{proxy.port}: "
            f"{exc.strerror or exc}"
        ) from None

    try:
        transport.write(connect_request(host, port, proxy))
        head = await answer.head
        status = connect_status(head)

        if status == 407:
            raise DialError(
                f"the proxy {proxy.host}:{proxy.port} answered 407: "
                + (
                    "it refused the proxy credentials"
                    if proxy.username
                    else "it wants credentials and none are configured"
                )
            )

        if status != 200:
            raise DialError(
                f"the proxy {proxy.host}:{proxy.port} refused the connection ({status})"
            )

        if not head.endswith(b"\r\n\r\n"):
            raise DialError("the proxy sent bytes of its own after its answer")

        # The relay speaks only after the TLS handshake, so nothing follows
        # the proxy's answer: the link takes the connection over.
        return await upgrade_link(transport, context, host)
    except (DialError, OSError):
        transport.close()
        raise


async def open_local(target: LocalTarget) -> LocalLink:
    """A connection to a tunnel's local interface (TLS for https://)."""

    loop = asyncio.get_running_loop()
    _, link = await asyncio.wait_for(
        loop.create_connection(
            LocalLink,
            target.host,
            target.port,
            ssl=local_context(target) if target.tls else None,
            server_hostname=target.host if target.tls else None,
        ),
        CONNECT_TIMEOUT,
    )
    return link
