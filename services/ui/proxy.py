"""Believing X-Forwarded-* headers only from the configured reverse proxies."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from werkzeug.middleware.proxy_fix import ProxyFix

from services.common.settings import ConfigError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

VARIABLE = "CLD_UI_TRUSTED_PROXIES"

# Set in the WSGI environment of a request that came through a trusted proxy;
# ProxyFix replaces REMOTE_ADDR with the client's, so the peer is told here.
FROM_TRUSTED_PROXY = "cld.from_trusted_proxy"


def trusted_networks(raw: str) -> tuple[Network, ...]:
    """The addresses or networks listed in ``raw``, comma-separated.

    Raises ConfigError naming the variable when an entry is not an address.
    """

    networks = []

    for entry in raw.split(","):
        entry = entry.strip()

        if not entry:
            continue

        try:
            networks.append(ipaddress.ip_network(entry))
        except ValueError as exc:
            raise ConfigError(f"{VARIABLE}={raw!r} is not valid: {exc}") from None

    return tuple(networks)


class TrustedProxyFix:
    """Applies ProxyFix to requests whose peer is a trusted proxy, only.

    Anyone else could send X-Forwarded-Host and make the dashboard build its
    links, and the link callback address given to the cloud, on their host.
    """

    def __init__(self, app: WSGIApplication, networks: Iterable[Network]) -> None:
        self.app = app
        self.networks = tuple(networks)
        self.fixed = ProxyFix(app, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1)

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        trusted = self.trusts(environ.get("REMOTE_ADDR", ""))
        environ[FROM_TRUSTED_PROXY] = trusted

        if trusted:
            return self.fixed(environ, start_response)

        return self.app(environ, start_response)

    def trusts(self, peer: str) -> bool:
        """Whether ``peer``'s forwarded headers are believed."""

        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False

        # A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d.
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped

        return any(address in network for network in self.networks)
