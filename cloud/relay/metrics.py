"""The relay's Prometheus metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from cloud.relay.registry import Registry


class RelayMetrics:
    """Connected daemons, tunnels, streams and bytes, in one registry."""

    def __init__(self, registry: Registry, prometheus: CollectorRegistry) -> None:
        self.prometheus = prometheus
        Gauge(
            "cld_relay_daemons_connected",
            "Daemons connected to this relay.",
            registry=prometheus,
        ).set_function(lambda: float(len(registry.sessions)))
        Gauge(
            "cld_relay_tunnels_started",
            "Started tunnels across connected daemons.",
            registry=prometheus,
        ).set_function(lambda: float(registry.started_count))
        Gauge(
            "cld_relay_streams_active",
            "Visitor streams open across connected daemons.",
            registry=prometheus,
        ).set_function(lambda: float(registry.stream_count))
        Gauge(
            "cld_relay_hosts_known",
            "Public hosts this relay has learned.",
            registry=prometheus,
        ).set_function(lambda: float(len(registry.hosts)))
        self.bytes = Counter(
            "cld_relay_bytes",
            "Bytes carried for visitors, by direction (to_daemon, to_visitor).",
            ["direction"],
            registry=prometheus,
        )
        self.sessions = Counter(
            "cld_relay_daemon_sessions",
            "Daemon connections by outcome (accepted, refused, replaced).",
            ["outcome"],
            registry=prometheus,
        )
        self.refusals = Counter(
            "cld_relay_visitor_refusals",
            "Visitor requests the relay answered itself, by status.",
            ["status"],
            registry=prometheus,
        )
        self.streams = Counter(
            "cld_relay_streams_opened",
            "Visitor streams opened to daemons.",
            registry=prometheus,
        )
        self.open_latency = Histogram(
            "cld_relay_first_byte_seconds",
            "Time from a visitor's first request to the first byte back.",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=prometheus,
        )
