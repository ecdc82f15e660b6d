"""Measures the clock drift against the cloud now and then, and publishes it."""

from __future__ import annotations

import logging
import ssl
import threading
import time
import urllib.error
import urllib.request
from email.message import Message

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

    def __init__(
        self, config: Config, bus: Bus, stopping: threading.Event, proxy: str = ""
    ) -> None:
        self.url = f"{config.cloud_url.rstrip('/')}/"
        self.interval = config.tunnel_clock_check
        self.timeout = config.cloud_timeout
        self.bus = bus
        self.stopping = stopping
        self.drift = 0.0
        self.warning = ""
        self._opener = _opener(proxy, config.cloud_ca_file)

    def start(self) -> None:
        """Measures now and then every interval, until the service stops."""

        threading.Thread(target=self._run, name="clock-drift", daemon=True).start()

    def measure(self) -> float:
        """Measures the drift once and publishes it; raises ValueError or OSError."""

        sent = time.time()
        headers = self._head()
        received = time.time()
        drift = drift_from_date(headers.get("Date", ""), sent, received)
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

    def _head(self) -> Message:
        if not self.url.startswith(("https://", "http://")):
            raise ValueError(f"the cloud URL {self.url} is not an http(s) URL")

        # The scheme was just checked, so no file: or other URL is opened.
        request = urllib.request.Request(self.url, method="HEAD")  # noqa: S310

        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return response.headers
        except urllib.error.HTTPError as exc:
            # Any answer carries the cloud's Date, an error status as well.
            return exc.headers
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise OSError(f"the cloud cannot be reached: {reason}") from None

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.measure()
                delay: float = self.interval
            except (OSError, ValueError) as exc:
                log.warning("Cannot measure the clock drift: %s", exc)
                delay = min(self.interval, _RETRY)

            self.stopping.wait(delay)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _opener(proxy: str, ca_file: str) -> urllib.request.OpenerDirector:
    """HTTP without the environment's proxies: ``proxy`` only, and no redirects.

    The standard library is enough for one HEAD request now and then, and
    keeps a heavier HTTP client out of the tunnel process.
    """

    context = ssl.create_default_context(cafile=ca_file or None)
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({"https": proxy, "http": proxy} if proxy else {}),
        urllib.request.HTTPSHandler(context=context),
        _NoRedirect(),
    )
