"""Runs the CloudLink emulator under gunicorn: ``python -m cloud``."""

from __future__ import annotations

import logging
import sys
from typing import Any

from flask import Flask
from gunicorn import glogging
from gunicorn.app.base import BaseApplication

from cloud.app import create_app
from cloud.config import CloudConfig, load_config
from cloud.emulator import Emulator
from cloud.seed import SeedError
from cloud.store import StateError
from cloud.tokens import SigningKeyError
from services.common import logs
from services.common.settings import ConfigError

log = logging.getLogger(__name__)

SERVICE = "cloud"

# The state lives in one process's memory, behind a lock: one worker, with
# threads enough for a handful of daemons and browsers at a time.
THREADS = 8


class JsonLogger(glogging.Logger):
    """Gunicorn's logger, its records sent to the root logger's JSON handler."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)

        for logger in (self.error_log, self.access_log):
            logger.handlers.clear()
            logger.propagate = True


class Server(BaseApplication):
    """Gunicorn configured in code, ignoring any gunicorn.conf.py around."""

    def __init__(self, config: CloudConfig) -> None:
        self.config = config
        super().__init__()

    def load_config(self) -> None:
        settings = {
            "bind": [self.config.bind],
            "workers": 1,
            "worker_class": "gthread",
            "threads": THREADS,
            # No keep-alive: an idle kept-alive connection holds up a stop by up
            # to two seconds, and a new local connection costs next to nothing.
            "keepalive": 0,
            "graceful_timeout": 5,
            "logger_class": JsonLogger,
            "loglevel": self.config.log_level.lower(),
            "accesslog": None,
            "proc_name": "cld-cloud",
            "control_socket_disable": True,
        }

        for name, value in settings.items():
            self.cfg.set(name, value)

    def load(self) -> Flask:
        # Built in the worker, so a worker restarted by the arbiter reads the
        # state from disk instead of inheriting the master's stale copy.
        return create_app(self.config)


def main() -> int:
    """Starts the emulator; returns the exit status once it has stopped."""

    logs.configure(SERVICE)

    try:
        config = load_config()
    except ConfigError as exc:
        log.error("Cannot start: %s", exc)
        return 2

    logs.configure(SERVICE, config.log_level)

    # Loading everything once here makes a bad seed, state file or key stop
    # start-up with its message, and makes the key before any worker runs.
    try:
        Emulator(config)
    except (SeedError, StateError, SigningKeyError, OSError) as exc:
        log.error("Cannot start: %s", exc)
        return 1

    Server(config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
