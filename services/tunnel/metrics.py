"""The tunnel service's Prometheus metrics, all named ``cld_tunnel_*``."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from services.tunnel.board import STARTED, Board

LABELS = ("component", "name")


class _TunnelStates(Collector):
    """Per-tunnel gauges read from the board at scrape time."""

    def __init__(self, board: Board) -> None:
        self.board = board

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "cld_tunnel_up",
            "1 while the tunnel is started and reachable through the relay.",
            labels=LABELS,
        )
        wanted = GaugeMetricFamily(
            "cld_tunnel_desired",
            "1 while an administrator wants the tunnel started.",
            labels=LABELS,
        )
        active = GaugeMetricFamily(
            "cld_tunnel_active_streams",
            "Visitor connections open through the tunnel.",
            labels=LABELS,
        )
        desired = self.board.desired()

        for view in self.board.views():
            labels = list(view.tunnel.key)
            up.add_metric(labels, float(view.state == STARTED))
            wanted.add_metric(labels, float(view.tunnel.key in desired))
            active.add_metric(labels, float(view.active_streams))

        yield up
        yield wanted
        yield active


class TunnelMetrics:
    """Counters and gauges the agent updates as it works."""

    def __init__(self, registry: CollectorRegistry, board: Board) -> None:
        registry.register(_TunnelStates(board))
        self.bytes_in = Counter(
            "cld_tunnel_bytes_in",
            "Bytes from visitors to the local interface.",
            LABELS,
            registry=registry,
        )
        self.bytes_out = Counter(
            "cld_tunnel_bytes_out",
            "Bytes from the local interface to visitors.",
            LABELS,
            registry=registry,
        )
        self.requests = Counter(
            "cld_tunnel_requests",
            "Visitor connections by the status class of their first answer "
            "(2xx..5xx), or error when the local interface could not be reached.",
            (*LABELS, "code"),
            registry=registry,
        )
        self.streams_refused = Counter(
            "cld_tunnel_streams_refused",
            "Streams the relay asked for that name no started tunnel.",
            registry=registry,
        )
        self.open_latency = Histogram(
            "cld_tunnel_stream_open_seconds",
            "Time to connect to the local interface for a new visitor stream.",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5),
            registry=registry,
        )
        self.reconnects = Counter(
            "cld_tunnel_relay_reconnects",
            "Connections to the relay made again after one was lost or failed.",
            registry=registry,
        )
        self.relay_connected = Gauge(
            "cld_tunnel_relay_connected",
            "1 while the service is connected to the relay.",
            registry=registry,
        )
        self.clock_drift = Gauge(
            "cld_tunnel_clock_drift_seconds",
            "Cloud time minus local time, as last measured.",
            registry=registry,
        )

    def drift_from(self, read: Callable[[], float]) -> None:
        """Reads the clock drift from ``read`` at scrape time."""

        self.clock_drift.set_function(read)
