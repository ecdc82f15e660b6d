"""Measures the clock drift against the cloud now and then, and publishes it."""

from __future__ import annotations

import logging
import threading
import time

import requests

from services.common import topics
from services.common.bus import Bus
from services.common.config import Config
from services.tunnel.clock import drift_from_date, drift_warning

log = logging.getLogger(__name__)

TOPIC = topics.topic("tunnel", "clock-drift")

# Retry soon after a failed measurement; a success holds for the interval.
_RETRY = 60.0


class DriftWatch:
    """The latest clock drift, measured in a thread of its own."""

    def __init__(self, config: Config, bus: Bus, stopping: threading.Event) -> None:
        self.url = f"{config.cloud_url.rstrip('/')}/"
        self.interval = config.tunnel_clock_check
        self.timeout = config.cloud_timeout
        self.bus = bus
        self.stopping = stopping
        self.drift = 0.0
        self.warning = ""
        self._session = requests.Session()
        self._session.trust_env = False

        if config.https_proxy:
            self._session.proxies = {
                "https": config.https_proxy,
                "http": config.https_proxy,
            }

        if config.cloud_ca_file:
            self._session.verify = config.cloud_ca_file

    def start(self) -> None:
        """Measures now and then every interval, until the service stops."""

        threading.Thread(target=self._run, name="clock-drift", daemon=True).start()

    def measure(self) -> float:
        """Measures the drift once and publishes it; raises ValueError or OSError."""

        sent = time.time()

        try:
            response = self._session.head(
                self.url, timeout=self.timeout, allow_redirects=False
            )
        except requests.RequestException as exc:
            raise OSError(f"the cloud cannot be reached: {exc}") from None

        received = time.time()
        drift = drift_from_date(response.headers.get("Date", ""), sent, received)
        self.drift = drift
        self.warning = drift_warning(drift)
        self.bus.publish_state(
            TOPIC,
            {
                "drift_seconds": drift,
                "warning": self.warning,
                "measured_against": self.url,
            },
        )

        if self.warning:
            log.warning("%s", self.warning, extra={"drift_seconds": drift})

        return drift

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.measure()
                delay: float = self.interval
            except (OSError, ValueError) as exc:
                log.warning("Cannot measure the clock drift: %s", exc)
                delay = min(self.interval, _RETRY)

            self.stopping.wait(delay)
