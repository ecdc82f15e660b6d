"""Runs the relay: ``python -m cloud.relay``."""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import sys

from cloud.relay.config import load_config
from cloud.relay.server import serve
from services.common import logs
from services.common.settings import ConfigError
from services.tunnel import polling

log = logging.getLogger(__name__)

SERVICE = "relay"


def main() -> int:
    """Starts the relay; returns the exit status once it has stopped."""

    logs.configure(SERVICE)

    try:
        config = load_config()
    except ConfigError as exc:
        log.error("Cannot start: %s", exc)
        return 2

    logs.configure(SERVICE, config.log_level)

    # What the imports built lives as long as the process: kept out of the
    # collector's full passes, those stay short instead of stalling visitors.
    gc.freeze()

    try:
        loop = functools.partial(polling.new_event_loop, config.busy_poll_us / 1e6)

        with asyncio.Runner(loop_factory=loop) as runner:
            runner.run(serve(config))
    except OSError as exc:
        log.error("Cannot start: %s", exc)
        return 1

    return 0


if __name__ == "__main__":
    sys.exit(main())
