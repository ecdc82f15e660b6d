"""Troubleshooting of the daemon's way out to the cloud, in plain words.

Each check tries one thing an administrator would otherwise try by hand:
name resolution of the cloud hosts, the proxy, TLS to each endpoint, the
clock against the cloud, and the relay. ``advice`` turns what went wrong
into what to do about it, apart from any socket.
"""

from __future__ import annotations

import base64
import email.utils
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any
from urllib.parse import unquote, urlsplit

CONNECT_TIMEOUT = 5.0

# The relay refuses a daemon whose clock is off by more than this.
DRIFT_LIMIT = 45.0
DRIFT_WARNING = 10.0

DEFAULT_CLOUD_URL = "https://api.mitel.io"
DEFAULT_RELAY = "relay.mitel.io:443"

OK, WARNING, FAILED, SKIPPED = "ok", "warning", "failed", "skipped"


@dataclass(frozen=True)
class Finding:
    """The result of one check."""

    check: str
    target: str
    status: str
    detail: str
    advice: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The finding for --json output."""

        return asdict(self)


@dataclass(frozen=True)
class Endpoint:
    """A host and port the daemon connects to, and whether over TLS."""

    name: str
    host: str
    port: int
    tls: bool
    ca_file: str = ""

    @property
    def target(self) -> str:
        """``host:port`` for messages."""

        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class Proxy:
    """An HTTP proxy reached with CONNECT, with optional credentials."""

    host: str
    port: int
    username: str = ""
    password: str = ""

    @property
    def target(self) -> str:
        """``host:port`` for messages; never the credentials."""

        return f"{self.host}:{self.port}"


class CheckError(Exception):
    """One check failed; ``advice`` says what to do."""

    def __init__(self, detail: str, advice: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.advice = advice


def endpoints(settings: Mapping[str, str]) -> list[Endpoint]:
    """The cloud API and the relay, from the daemon's settings."""

    cloud = urlsplit(settings.get("CLD_CLOUD_URL") or DEFAULT_CLOUD_URL)
    secure = cloud.scheme == "https"
    relay_host, _, relay_port = (
        settings.get("CLD_TUNNEL_RELAY") or DEFAULT_RELAY
    ).rpartition(":")
    return [
        Endpoint(
            "cloud",
            cloud.hostname or "",
            cloud.port or (443 if secure else 80),
            secure,
            settings.get("CLD_CLOUD_CA_FILE", ""),
        ),
        Endpoint(
            "relay",
            relay_host.strip("[]"),
            int(relay_port),
            True,
            settings.get("CLD_TUNNEL_RELAY_CA_FILE", ""),
        ),
    ]


def proxy_of(settings: Mapping[str, str]) -> Proxy | None:
    """The configured proxy, or None for direct connections."""

    raw = settings.get("CLD_HTTPS_PROXY", "")

    if not raw:
        return None

    url = urlsplit(raw)
    return Proxy(
        url.hostname or "",
        url.port or 3128,
        unquote(url.username or ""),
        unquote(url.password or ""),
    )


def drift_finding(target: str, drift: float) -> Finding:
    """How far the local clock is from the cloud's, judged."""

    side = "ahead of" if drift > 0 else "behind"
    text = f"the local clock is {abs(drift):.0f}s {side} the cloud"

    if abs(drift) > DRIFT_LIMIT:
        return Finding(
            "clock",
            target,
            FAILED,
            text,
            f"Tunnels break beyond {DRIFT_LIMIT:.0f}s of drift: set the system "
            "time right and keep it synchronised (NTP).",
        )

    if abs(drift) > DRIFT_WARNING:
        return Finding(
            "clock",
            target,
            WARNING,
            text,
            "Check the time synchronisation (NTP) before the drift grows.",
        )

    return Finding("clock", target, OK, text)


def tls_advice(error: ssl.SSLError, endpoint: Endpoint) -> str:
    """What to do when the TLS handshake with ``endpoint`` failed."""

    reason = getattr(error, "verify_message", "") or str(error)
    variable = (
        "CLD_CLOUD_CA_FILE" if endpoint.name == "cloud" else "CLD_TUNNEL_RELAY_CA_FILE"
    )

    if "expired" in reason or "not yet valid" in reason:
        return (
            "The certificate looks expired or not yet valid: check the system "
            "clock first; a wrong date makes every certificate look bad."
        )

    if "self-signed" in reason or "unable to get local issuer" in reason:
        return (
            "The certificate is signed by an authority this host does not trust. "
            "A proxy or firewall that inspects TLS does this: add its CA "
            f"certificate to a file and name it in {variable}."
        )

    if "hostname mismatch" in reason or "match" in reason:
        return (
            f"The certificate is not for {endpoint.host}: something between "
            "this host and the cloud answers in its place (DNS or a proxy)."
        )

    return "The TLS handshake failed: check firewall rules for TLS inspection."


def run_checks(settings: Mapping[str, str]) -> list[Finding]:
    """Every check, in the order an administrator would try them."""

    findings: list[Finding] = []
    proxy = proxy_of(settings)
    targets = endpoints(settings)

    for endpoint in targets:
        findings.append(
            _resolve(endpoint.host, endpoint.name, proxied=proxy is not None)
        )

    if proxy is None:
        findings.append(Finding("proxy", "", SKIPPED, "no proxy is configured"))
    else:
        findings.append(_check(lambda: _proxy_reachable(proxy), "proxy", proxy.target))

    for endpoint in targets:
        check = "tls" if endpoint.tls else "connect"
        findings.append(
            _check(partial(_handshake, endpoint, proxy), check, endpoint.target)
        )

    findings.append(_clock(targets[0], settings, proxy))
    return findings


def _check(probe: Callable[[], str], check: str, target: str) -> Finding:
    try:
        detail = probe()
    except CheckError as exc:
        return Finding(check, target, FAILED, exc.detail, exc.advice)

    return Finding(check, target, OK, str(detail))


def _resolve(host: str, name: str, proxied: bool) -> Finding:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
        return Finding("dns", host, SKIPPED, "an address, nothing to resolve")
    except OSError:
        pass

    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        if proxied:
            return Finding(
                "dns",
                host,
                WARNING,
                f"{host} does not resolve here ({exc.strerror})",
                "The proxy resolves it for the daemon; this only matters "
                "if the proxy is bypassed.",
            )

        return Finding(
            "dns",
            host,
            FAILED,
            f"the {name} host {host} does not resolve ({exc.strerror})",
            "Check the DNS servers in /etc/resolv.conf, or configure the "
            "proxy (CLD_HTTPS_PROXY) if this network resolves names only there.",
        )

    addresses = sorted({str(info[4][0]) for info in infos})
    return Finding("dns", host, OK, f"{host} is {', '.join(addresses)}")


def _proxy_reachable(proxy: Proxy) -> str:
    _connect(proxy.host, proxy.port, "the proxy").close()
    return f"the proxy {proxy.target} accepts connections"


def _connect(host: str, port: int, what: str) -> socket.socket:
    try:
        return socket.create_connection((host, port), timeout=CONNECT_TIMEOUT)
    except TimeoutError:
        raise CheckError(
            f"{what} at {host}:{port} does not answer (timed out)",
            "A firewall drops the traffic: allow outbound connections to it.",
        ) from None
    except OSError as exc:
        raise CheckError(
            f"cannot connect to {what} at {host}:{port}: {exc.strerror or exc}",
            "Nothing listens there or a firewall refuses: check the address, "
            "and allow outbound connections to it.",
        ) from None


def _open(endpoint: Endpoint, proxy: Proxy | None) -> socket.socket:
    if proxy is None:
        return _connect(endpoint.host, endpoint.port, f"the {endpoint.name}")

    sock = _connect(proxy.host, proxy.port, "the proxy")
    request = f"CONNECT {endpoint.target} HTTP/1.1\r\nHost: {endpoint.target}\r\n"

    if proxy.username:
        pair = f"{proxy.username}:{proxy.password}".encode()
        request += f"Proxy-Authorization: Basic {base64.b64encode(pair).decode()}\r\n"

    sock.sendall(f"{request}\r\n".encode())
    status = _status_line(sock)

    if status == 200:
        return sock

    sock.close()

    if status == 407:
        raise CheckError(
            f"the proxy asks for credentials to reach {endpoint.target} (407)",
            "Give the proxy user and password in CLD_HTTPS_PROXY as "
            "http://USER:PASSWORD@HOST:PORT.",
        )

    raise CheckError(
        f"the proxy refuses to connect to {endpoint.target} ({status})",
        f"Ask the proxy's administrator to allow {endpoint.host} on port "
        f"{endpoint.port}.",
    )


def _status_line(sock: socket.socket) -> int:
    received = b""

    while b"\r\n\r\n" not in received and len(received) < 8192:
        chunk = sock.recv(1024)

        if not chunk:
            break

        received += chunk

    try:
        return int(received.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0


def _tls_context(endpoint: Endpoint) -> ssl.SSLContext:
    context = ssl.create_default_context()

    if endpoint.ca_file:
        try:
            context.load_verify_locations(endpoint.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise CheckError(
                f"the CA file {endpoint.ca_file} cannot be used: {exc}",
                "Point the CA setting at a readable PEM file.",
            ) from None

    return context


def _handshake(endpoint: Endpoint, proxy: Proxy | None) -> str:
    sock = _open(endpoint, proxy)

    if not endpoint.tls:
        sock.close()
        return f"{endpoint.target} accepts connections (plain HTTP)"

    try:
        with _tls_context(endpoint).wrap_socket(
            sock, server_hostname=endpoint.host
        ) as tls:
            version = tls.version()
    except ssl.SSLError as exc:
        sock.close()
        raise CheckError(
            f"TLS with {endpoint.target} failed: "
            f"{getattr(exc, 'verify_message', '') or exc.reason}",
            tls_advice(exc, endpoint),
        ) from None
    except OSError as exc:
        sock.close()
        raise CheckError(
            f"TLS with {endpoint.target} broke off: {exc}",
            "Something between this host and the cloud cut the connection: "
            "check firewall rules.",
        ) from None

    return f"TLS ({version}) with {endpoint.target}, certificate trusted"


def _clock(
    cloud: Endpoint, settings: Mapping[str, str], proxy: Proxy | None
) -> Finding:
    url = settings.get("CLD_CLOUD_URL") or DEFAULT_CLOUD_URL

    try:
        sock = _open(cloud, proxy)
    except CheckError as exc:
        return Finding("clock", cloud.target, SKIPPED, f"not measured: {exc.detail}")

    try:
        if cloud.tls:
            sock = _tls_context(cloud).wrap_socket(sock, server_hostname=cloud.host)

        path = urlsplit(url).path or "/"
        sent = time.time()
        request = f"HEAD {path} HTTP/1.1\r\nHost: {cloud.target}\r\n"
        sock.sendall(f"{request}Connection: close\r\n\r\n".encode())
        head = sock.recv(8192).decode("latin-1")
        received = time.time()
    except (OSError, CheckError) as exc:
        return Finding("clock", cloud.target, SKIPPED, f"not measured: {exc}")
    finally:
        sock.close()

    for line in head.split("\r\n"):
        name, _, value = line.partition(":")

        if name.lower() == "date":
            cloud_time = email.utils.parsedate_to_datetime(value.strip()).timestamp()

            # The Date header is whole seconds, stamped between send and receive.
            return drift_finding(cloud.target, (sent + received) / 2 - cloud_time - 0.5)

    return Finding("clock", cloud.target, SKIPPED, "the cloud sent no Date header")
