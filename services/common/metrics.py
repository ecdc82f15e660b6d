"""Each service's Prometheus endpoint."""

from __future__ import annotations

import logging
from threading import Thread
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Gauge, Info, start_http_server

from services.common.version import build_info

log = logging.getLogger(__name__)


class MetricsListener:
    """Serves ``registry`` at /metrics on a TCP port (none when port is 0)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self._server: WSGIServer | None = None
        self._thread: Thread | None = None

    def start(self, host: str, port: int) -> None:
        """Starts serving; a port of 0 leaves metrics off."""

        if port == 0:
            return

        try:
            self._server, self._thread = start_http_server(
                port, addr=host, registry=self.registry
            )
        except OSError as exc:
            raise OSError(f"cannot serve metrics on {host}:{port}: {exc}") from exc

        log.info("Serving metrics on http://%s:%s/metrics", host, port)

    def stop(self) -> None:
        """Stops serving."""

        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


class MetricsEndpoint(MetricsListener):
    """A service's /metrics, with its build and bus connection among them."""

    def __init__(self, service: str, registry: CollectorRegistry) -> None:
        super().__init__(registry)
        info = Info("cld_build", "The daemon's build.", registry=registry)
        info.info({"service": service, **build_info().as_labels()})
        self.bus_connected = Gauge(
            "cld_bus_connected",
            "1 while the service is connected to the local MQTT broker.",
            registry=registry,
        )
