"""The dashboard's metrics and access log: counted in workers, served by the master.

gunicorn runs the app in several worker processes, so the workers write their
samples to files in PROMETHEUS_MULTIPROC_DIR and the master merges them when
scraped (prometheus_client's multiprocess mode). That variable must be set
before prometheus_client is first imported.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from flask import Flask, Response, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from services.common.bus import Bus
from services.common.metrics import MetricsListener
from services.common.version import build_info

log = logging.getLogger(__name__)

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

# Supervisors poll the health check and browsers fetch the stylesheet on every
# page; neither is worth a line at INFO.
_QUIET_ENDPOINTS = frozenset({"dashboard.healthz", "static"})


class RequestMetrics:
    """Counts and times the requests a worker answers."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "cld_ui_requests",
            "Requests answered by the dashboard.",
            ["endpoint", "method", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "cld_ui_request_duration_seconds",
            "Time the dashboard took to answer a request.",
            ["endpoint", "method"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=registry,
        )


def instrument(app: Flask, metrics: RequestMetrics) -> None:
    """Gives every request an id, and counts, times and logs it."""

    def start() -> None:
        g.started = time.perf_counter()
        given = request.headers.get("X-Request-Id", "")
        g.request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex

    def finish(response: Response) -> Response:
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())

        # The endpoint name, never the path: paths are whatever a client
        # sends, and each would become a series of its own.
        endpoint = request.endpoint or "unmatched"
        method = request.method
        metrics.requests.labels(endpoint, method, str(response.status_code)).inc()
        metrics.duration.labels(endpoint, method).observe(elapsed)

        request_id = g.get("request_id", "")
        response.headers["X-Request-Id"] = request_id
        level = logging.DEBUG if endpoint in _QUIET_ENDPOINTS else logging.INFO
        log.log(
            level,
            "%s %s %s",
            method,
            request.path,
            response.status_code,
            extra={
                "request_id": request_id,
                "client": request.remote_addr,
                "duration_ms": round(elapsed * 1000, 1),
            },
        )
        return response

    app.before_request(start)
    app.after_request(finish)


class _MasterCollector:
    """The samples only the master knows: the build and its bus connection."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    def collect(self) -> Iterator[Metric]:
        """Yields cld_build_info and cld_bus_connected."""

        yield InfoMetricFamily(
            "cld_build",
            "The daemon's build.",
            value={"service": "ui", **build_info().as_labels()},
        )
        yield GaugeMetricFamily(
            "cld_bus_connected",
            "1 while the service is connected to the local MQTT broker.",
            value=float(self.bus.connected.is_set()),
        )


class MetricsServer(MetricsListener):
    """Serves the workers' merged samples at /metrics, from the master."""

    def __init__(self, folder: Path, bus: Bus) -> None:
        super().__init__(CollectorRegistry())
        self.folder = folder
        MultiProcessCollector(self.registry, path=str(folder))
        self.registry.register(_MasterCollector(bus))

    def worker_exited(self, pid: int) -> None:
        """Drops the live samples of a worker that is gone."""

        mark_process_dead(pid, str(self.folder))

    def close_in_child(self) -> None:
        """Closes a forked worker's copy of the listening socket.

        A worker never answers scrapes; holding the socket would only keep the
        port bound after the master is gone.
        """

        if self._server is not None:
            self._server.socket.close()
