"""The life of one service process: start, serve, announce, stop on SIGTERM."""

from __future__ import annotations

import gc
import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType

import grpc
from prometheus_client import CollectorRegistry

from services.common import logs
from services.common.bus import Bus
from services.common.config import Config, load_config
from services.common.metrics import MetricsEndpoint
from services.common.rpc import RpcServer
from services.common.settings import ConfigError
from services.common.version import build_info

log = logging.getLogger(__name__)


@dataclass
class ServiceContext:
    """What a service's set-up gets to build its parts with."""

    name: str
    config: Config
    bus: Bus
    registry: CollectorRegistry
    stopping: threading.Event
    on_stop: list[Callable[[], None]] = field(default_factory=list)


Register = Callable[[grpc.Server], None]
Setup = Callable[[ServiceContext], Register]


def run(name: str, setup: Setup) -> int:
    """Runs service ``name`` until SIGTERM or SIGINT; returns the exit code.

    ``setup`` builds the service's parts and returns the function that adds
    its servicers to the gRPC server. Callbacks in ``context.on_stop`` run
    first when stopping, in reverse order, before the server and the bus go.
    """

    try:
        config = load_config()
    except ConfigError as exc:
        logs.configure(name)
        log.critical("Cannot start: %s", exc)
        return 2

    logs.configure(name, config.log_level)
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    config.service_state_dir(name).mkdir(parents=True, exist_ok=True, mode=0o700)
    registry = CollectorRegistry()
    metrics = MetricsEndpoint(name, registry)
    bus = Bus(name, config.mqtt_host, config.mqtt_port)
    metrics.bus_connected.set_function(lambda: float(bus.connected.is_set()))
    context = ServiceContext(name, config, bus, registry, stopping)

    try:
        register = setup(context)
        server = RpcServer(name, config.runtime_dir, register)
        metrics.start(config.metrics_host, config.metrics_port(name))
    except OSError as exc:
        log.critical("Cannot start %s: %s", name, exc)
        return 1
    except Exception:
        log.exception("Could not start %s", name)
        return 1

    bus.start()
    server.start()
    log.info("Started %s %s", name, build_info().version)

    # What start-up built lives as long as the process: kept out of the
    # collector's full passes, those stay short instead of stalling requests.
    gc.freeze()

    stopping.wait()
    log.info("Stopping %s", name)

    for callback in reversed(context.on_stop):
        try:
            callback()
        except Exception:
            log.exception("A stop step of %s failed", name)

    server.stop(grace=0.5)
    bus.stop(timeout=0.5)
    metrics.stop()
    log.info("Stopped %s", name)
    return 0
