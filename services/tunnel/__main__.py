"""Entry point of the tunnel service."""

from __future__ import annotations

import logging

import grpc
from cld.v1 import tunnel_pb2_grpc

from services.common import service
from services.common.config import Config
from services.common.state import StateStore
from services.tunnel.access import AccessLog
from services.tunnel.agent import Agent
from services.tunnel.board import Board
from services.tunnel.catalog import (
    HostPlatform,
    find_platform,
    host_proxy,
    load_catalog,
)
from services.tunnel.dial import parse_proxy
from services.tunnel.drift import DriftWatch
from services.tunnel.follow import PLATFORM, ComponentFollower
from services.tunnel.metrics import TunnelMetrics
from services.tunnel.servicer import TunnelServicer
from services.tunnel.streams import StreamServer
from services.tunnel.tokens import TokenSource

log = logging.getLogger(__name__)


def setup(context: service.ServiceContext) -> service.Register:
    """Builds the board, the relay agent, the drift watch and the gRPC service."""

    config = context.config
    platform = find_platform(config)
    catalog = load_catalog(config, platform)
    store = StateStore(config.service_state_dir("tunnel") / "tunnels.json")
    board = Board(catalog, store, context.bus.publish_state)
    metrics = TunnelMetrics(context.registry, board)
    access_log = AccessLog(config.tunnel_access_log_size)
    streams = StreamServer(board, metrics, access_log)
    tokens = TokenSource(config.runtime_dir)
    proxy = _proxy(config, platform)
    agent = Agent(config, board, tokens, metrics, streams, proxy)
    drift = DriftWatch(config, context.bus, context.stopping, proxy)
    metrics.drift_from(lambda: drift.drift)

    board.on_change = agent.notify
    board.announce()
    context.bus.subscribe(PLATFORM, ComponentFollower(platform, board).on_platform)
    agent.start()
    drift.start()
    context.on_stop.append(tokens.close)
    context.on_stop.append(agent.stop)

    def register(server: grpc.Server) -> None:
        tunnel_pb2_grpc.add_TunnelGatewayServicer_to_server(
            TunnelServicer(board, agent, drift, access_log), server
        )

    return register


def _proxy(config: Config, platform: HostPlatform) -> str:
    proxy = host_proxy(config, platform)

    try:
        parse_proxy(proxy)
    except ValueError as exc:
        if config.https_proxy:
            log.critical("Cannot start: CLD_HTTPS_PROXY is not valid: %s", exc)
            raise SystemExit(2) from None

        log.warning(
            "The host's proxy setting cannot be used (%s); the relay is reached "
            "directly",
            exc,
        )
        return ""

    return proxy


if __name__ == "__main__":
    raise SystemExit(service.run("tunnel", setup))
