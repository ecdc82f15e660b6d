"""Entry point of the tunnel service."""

from __future__ import annotations

import grpc
from cld.v1 import tunnel_pb2_grpc

from services.common import service
from services.common.state import StateStore
from services.tunnel.access import AccessLog
from services.tunnel.agent import Agent
from services.tunnel.board import Board
from services.tunnel.catalog import load_catalog
from services.tunnel.drift import DriftWatch
from services.tunnel.metrics import TunnelMetrics
from services.tunnel.servicer import TunnelServicer
from services.tunnel.streams import StreamServer
from services.tunnel.tokens import TokenSource


def setup(context: service.ServiceContext) -> service.Register:
    """Builds the board, the relay agent, the drift watch and the gRPC service."""

    config = context.config
    catalog = load_catalog(config)
    store = StateStore(config.service_state_dir("tunnel") / "tunnels.json")
    board = Board(catalog, store, context.bus.publish_state)
    metrics = TunnelMetrics(context.registry, board)
    access_log = AccessLog(config.tunnel_access_log_size)
    streams = StreamServer(catalog, board, metrics, access_log)
    tokens = TokenSource(config.runtime_dir)
    agent = Agent(config, board, tokens, metrics, streams)
    drift = DriftWatch(config, context.bus, context.stopping)
    metrics.drift_from(lambda: drift.drift)

    board.on_change = agent.notify
    board.announce()
    agent.start()
    drift.start()
    context.on_stop.append(tokens.close)
    context.on_stop.append(agent.stop)

    def register(server: grpc.Server) -> None:
        tunnel_pb2_grpc.add_TunnelGatewayServicer_to_server(
            TunnelServicer(board, agent, drift, access_log), server
        )

    return register


if __name__ == "__main__":
    raise SystemExit(service.run("tunnel", setup))
