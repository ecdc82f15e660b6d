"""The updater's Prometheus metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from services.updater.status import OUTCOMES


class UpdaterMetrics:
    """Last check, last update, pause, and how checks and updates ended."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.last_check = Gauge(
            "cld_updater_last_check_timestamp_seconds",
            "When the update channel was last asked, as a Unix time.",
            registry=registry,
        )
        self.last_update = Gauge(
            "cld_updater_last_update_timestamp_seconds",
            "When an update was last applied and confirmed, as a Unix time.",
            registry=registry,
        )
        self.paused = Gauge(
            "cld_updater_paused",
            "1 while scheduled updates are paused.",
            registry=registry,
        )
        self.results = Counter(
            "cld_updater_results",
            "Checks and updates by how they ended.",
            ["outcome"],
            registry=registry,
        )

        # Every outcome is exported from the start, so a rate over it exists
        # before the first of its kind happens.
        for outcome in OUTCOMES:
            self.results.labels(outcome=outcome.replace(" ", "_"))
