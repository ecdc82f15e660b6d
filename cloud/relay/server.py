"""The relay process: both listeners, the registry and the metrics endpoint."""

from __future__ import annotations

import asyncio
import logging
import signal
import ssl
from pathlib import Path

from prometheus_client import CollectorRegistry, start_http_server

from cloud.relay.auth import Authority
from cloud.relay.bodies import VisitorReader
from cloud.relay.certs import certificate_files, server_context
from cloud.relay.config import RelayConfig
from cloud.relay.daemons import DaemonEndpoint
from cloud.relay.ingress import Ingress
from cloud.relay.metrics import RelayMetrics
from cloud.relay.registry import Registry
from services.tunnel.link import FrameLink

log = logging.getLogger(__name__)

# Reads of up to a full DATA frame at a time keep bulk transfers cheap.
STREAM_LIMIT = 1024 * 1024


def _split(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def public_context(config: RelayConfig, tls: ssl.SSLContext) -> ssl.SSLContext | None:
    """TLS of the public ingress: its own certificate, the relay's, or none."""

    if not config.public_tls:
        return None

    if config.public_tls_cert:
        return server_context(Path(config.public_tls_cert), Path(config.public_tls_key))

    return tls


async def serve(config: RelayConfig, ready: asyncio.Event | None = None) -> None:
    """Runs the relay until cancelled or signalled to stop."""

    cert, key = certificate_files(config)
    tls = server_context(cert, key)
    config.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    registry = Registry(config.state_dir / "hosts.json")
    prometheus = CollectorRegistry()
    metrics = RelayMetrics(registry, prometheus)
    authority = Authority(config.cloud_url, config.token_issuer)

    public_host, public_port = _split(config.public_bind)
    # Visitors reach the public URLs over HTTPS when the scheme says so, and
    # only then may their cookie be marked for HTTPS alone.
    ingress = Ingress(
        registry,
        authority,
        metrics,
        config.host_suffix,
        secure_cookie=config.public_scheme == "https",
    )

    def visitor_protocol() -> asyncio.StreamReaderProtocol:
        reader = VisitorReader(limit=STREAM_LIMIT)
        return asyncio.StreamReaderProtocol(reader, ingress.handle)

    public = await asyncio.get_running_loop().create_server(
        visitor_protocol,
        public_host,
        public_port,
        ssl=public_context(config, tls),
    )
    bound_port = public.sockets[0].getsockname()[1]
    url = config.public_url_template(bound_port)

    endpoint = DaemonEndpoint(
        registry,
        authority,
        metrics,
        heartbeat=config.heartbeat,
        idle_timeout=config.idle_timeout,
        public_url=url,
    )
    daemon_host, daemon_port = _split(config.daemon_bind)
    daemons = await asyncio.get_running_loop().create_server(
        lambda: FrameLink(on_made=endpoint.accept), daemon_host, daemon_port, ssl=tls
    )

    if config.metrics_bind:
        host, port = _split(config.metrics_bind)
        start_http_server(port, addr=host, registry=prometheus)

    log.info(
        "Relay serving daemons on %s (TLS) and visitors on %s; public URLs %s",
        config.daemon_bind,
        config.public_bind,
        url,
        extra={"certificate": str(cert)},
    )

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    if ready is not None:
        ready.set()

    async with public, daemons:
        await stop.wait()
        log.info("Stopping the relay")
        public.close()
        daemons.close()

        for session in list(registry.sessions.values()):
            await session.connection.close("the relay is stopping")

    log.info("Stopped the relay")
