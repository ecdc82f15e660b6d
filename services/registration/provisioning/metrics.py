"""The provisioning engine's Prometheus metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class ProvisioningMetrics:
    """The gauges and the operations counter, in ``registry``."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.users = Gauge(
            "cld_provisioning_users",
            "Users this system provisioned in CloudLink, as last seen.",
            registry=registry,
        )
        self.last_full_sync = Gauge(
            "cld_provisioning_last_full_sync_timestamp_seconds",
            "When the last full sync completed, in Unix seconds; 0 before any.",
            registry=registry,
        )
        self.operations = Counter(
            "cld_provisioning_user_operations",
            "Users handled, by operation (sync, put, delete) and outcome.",
            ["operation", "outcome"],
            registry=registry,
        )
        self.sync_running = Gauge(
            "cld_provisioning_sync_running",
            "1 while a full sync is running or waiting to resume.",
            registry=registry,
        )
