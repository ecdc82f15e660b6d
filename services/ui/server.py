"""gunicorn running the dashboard: app in workers, bus and metrics in the master."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask
from gunicorn import glogging
from gunicorn.app.base import BaseApplication

from services.common.bus import Bus
from services.common.config import Config
from services.ui.app import create_app
from services.ui.live import LiveState
from services.ui.metrics import MetricsServer
from services.ui.watch import BusWatch

log = logging.getLogger(__name__)

# Each worker thread can wait on the registration service (up to 25 s for a
# link) while the others keep answering.
THREADS = 4

# SIGTERM must stop the dashboard within 2 s: workers get this long to finish
# their requests, then the master stops the bus and metrics (under 1 s).
GRACEFUL_TIMEOUT = 1


class JsonLogger(glogging.Logger):
    """gunicorn's logger, sending its records to the process's JSON handler."""

    def setup(self, cfg: Any) -> None:
        """Lets gunicorn set levels, then drops its own plain-text handlers."""

        super().setup(cfg)

        for logger in (self.error_log, self.access_log):
            for handler in list(logger.handlers):
                logger.removeHandler(handler)

            logger.propagate = True


class DashboardServer(BaseApplication):
    """gunicorn, configured from the daemon's settings rather than its CLI."""

    def __init__(self, config: Config, metrics_dir: Path) -> None:
        self.config = config
        self.metrics_dir = metrics_dir
        self.bus: Bus | None = None
        self.metrics: MetricsServer | None = None
        super().__init__()

    def load_config(self) -> None:
        """Sets gunicorn's settings and hooks."""

        settings: dict[str, Any] = {
            "bind": [self.config.ui_bind],
            "workers": self.config.ui_workers,
            "worker_class": "gthread",
            "threads": THREADS,
            "graceful_timeout": GRACEFUL_TIMEOUT,
            "loglevel": self.config.log_level.lower(),
            "logger_class": JsonLogger,
            "errorlog": "-",
            "proc_name": "cld-ui",
            # Forwarded headers are believed by the app for
            # CLD_UI_TRUSTED_PROXIES only; gunicorn must not act on them too.
            "forwarded_allow_ips": "",
            "secure_scheme_headers": {},
            # gunicorn's control socket would sit in the user's home folder,
            # shared by every gunicorn on the host; nothing here uses it.
            "control_socket_disable": True,
            "when_ready": self.when_ready,
            "post_fork": self.post_fork,
            "child_exit": self.child_exit,
            "on_exit": self.on_exit,
        }

        for name, value in settings.items():
            self.cfg.set(name, value)

    def load(self) -> Flask:
        """The app, built in each worker after the fork, with its own bus watch."""

        live = LiveState()
        BusWatch(self.config.mqtt_host, self.config.mqtt_port, live).start()
        return create_app(self.config, live=live)

    def when_ready(self, arbiter: Any) -> None:
        """Serves metrics and announces the dashboard online, before forking."""

        self.bus = Bus("ui", self.config.mqtt_host, self.config.mqtt_port)
        self.metrics = MetricsServer(self.metrics_dir, self.bus)

        try:
            self.metrics.start(self.config.metrics_host, self.config.ui_metrics_port)
        except OSError as exc:
            log.critical("Cannot start the dashboard: %s", exc)
            raise SystemExit(1) from None

        self.bus.start()

    def post_fork(self, arbiter: Any, worker: Any) -> None:
        """Lets a new worker drop what only the master uses."""

        if self.metrics is not None:
            self.metrics.close_in_child()

        if self.bus is not None:
            self.bus.close_in_child()

    def child_exit(self, arbiter: Any, worker: Any) -> None:
        """Forgets the live samples of a worker that exited."""

        if self.metrics is not None:
            self.metrics.worker_exited(worker.pid)

    def on_exit(self, arbiter: Any) -> None:
        """Announces the dashboard offline and stops serving metrics."""

        if self.bus is not None:
            self.bus.stop(timeout=0.5)

        if self.metrics is not None:
            self.metrics.stop()

        log.info("Stopped ui")
