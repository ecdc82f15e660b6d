"""The TunnelGateway gRPC service over the board, agent and access log."""

from __future__ import annotations

import logging

import grpc
from cld.v1 import tunnel_pb2 as pb
from cld.v1 import tunnel_pb2_grpc as pb_grpc

from services.tunnel.access import AccessLog
from services.tunnel.agent import Agent
from services.tunnel.board import Board, TunnelView, UnknownTunnelError
from services.tunnel.drift import DriftWatch

log = logging.getLogger(__name__)

STATES = {
    "stopped": pb.TUNNEL_STATE_STOPPED,
    "starting": pb.TUNNEL_STATE_STARTING,
    "started": pb.TUNNEL_STATE_STARTED,
    "failed": pb.TUNNEL_STATE_FAILED,
}
RELAY_STATES = {
    "idle": pb.RELAY_STATE_IDLE,
    "connecting": pb.RELAY_STATE_CONNECTING,
    "connected": pb.RELAY_STATE_CONNECTED,
    "retrying": pb.RELAY_STATE_RETRYING,
}


def tunnel_message(view: TunnelView) -> pb.Tunnel:
    """The Tunnel message of one board view."""

    return pb.Tunnel(
        component=view.tunnel.component,
        name=view.tunnel.name,
        description=view.tunnel.description,
        state=STATES[view.state],
        reason=view.reason,
        local_address=view.tunnel.local_address,
        public_url=view.public_url,
        active_streams=view.active_streams,
    )


class TunnelServicer(pb_grpc.TunnelGatewayServicer):
    """Answers the dashboard's reads and actions on tunnels."""

    def __init__(
        self, board: Board, agent: Agent, drift: DriftWatch, access_log: AccessLog
    ) -> None:
        self.board = board
        self.agent = agent
        self.drift = drift
        self.access_log = access_log

    def ListTunnels(  # noqa: N802
        self, request: pb.ListTunnelsRequest, context: grpc.ServicerContext
    ) -> pb.TunnelList:
        return self._list()

    def StartTunnel(  # noqa: N802
        self, request: pb.TunnelRef, context: grpc.ServicerContext
    ) -> pb.Tunnel:
        key = (request.component, request.name)
        self._guard(context, lambda: self.board.start(key))
        return tunnel_message(self.board.view(key))

    def StopTunnel(  # noqa: N802
        self, request: pb.TunnelRef, context: grpc.ServicerContext
    ) -> pb.Tunnel:
        key = (request.component, request.name)
        self._guard(context, lambda: self.board.stop(key))
        return tunnel_message(self.board.view(key))

    def StartAllTunnels(  # noqa: N802
        self, request: pb.StartAllTunnelsRequest, context: grpc.ServicerContext
    ) -> pb.TunnelList:
        self.board.start_all()
        return self._list()

    def StopAllTunnels(  # noqa: N802
        self, request: pb.StopAllTunnelsRequest, context: grpc.ServicerContext
    ) -> pb.TunnelList:
        self.board.stop_all()
        return self._list()

    def GetAccessLog(  # noqa: N802
        self, request: pb.GetAccessLogRequest, context: grpc.ServicerContext
    ) -> pb.AccessLog:
        entries = []

        for entry in self.access_log.latest(request.limit):
            message = pb.AccessEntry(
                component=entry.component,
                name=entry.name,
                user_id=entry.user_id,
                account_id=entry.account_id,
                visitor_address=entry.visitor_address,
                bytes_in=entry.bytes_in,
                bytes_out=entry.bytes_out,
                status=entry.status,
                duration_seconds=entry.duration,
            )
            message.opened_at.FromNanoseconds(int(entry.opened_at * 1e9))
            entries.append(message)

        return pb.AccessLog(entries=entries)

    def _list(self) -> pb.TunnelList:
        return pb.TunnelList(
            tunnels=[tunnel_message(v) for v in self.board.views()],
            clock_drift_seconds=self.drift.drift,
            clock_warning=self.drift.warning,
            relay_state=RELAY_STATES[self.agent.relay_state],
            relay_error=self.agent.relay_error,
            catalog_problem=self.board.catalog.problem,
        )

    def _guard(self, context: grpc.ServicerContext, action: object) -> None:
        assert callable(action)

        try:
            action()
        except UnknownTunnelError as exc:
            context.abort(grpc.StatusCode.NOT_FOUND, str(exc))
