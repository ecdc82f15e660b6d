"""gRPC between the services, over Unix sockets in the shared runtime folder."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from concurrent import futures
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

log = logging.getLogger(__name__)

# Requests are small and the UI is the main caller; a handful of threads keep
# idle memory low while letting a slow cloud call not block a status read.
_MAX_WORKERS = 8
_MAX_MESSAGE = 4 * 1024 * 1024


def socket_path(runtime_dir: Path, service: str) -> Path:
    """Where ``service`` listens for gRPC."""

    return runtime_dir / f"{service}.sock"


def target(runtime_dir: Path, service: str) -> str:
    """The gRPC target string of ``service``'s socket."""

    return f"unix://{socket_path(runtime_dir, service)}"


class RpcServer:
    """A gRPC server for one service with the standard health service."""

    def __init__(
        self,
        service: str,
        runtime_dir: Path,
        register: Callable[[grpc.Server], None],
    ) -> None:
        self.service = service
        self.path = socket_path(runtime_dir, service)
        self.health = health.HealthServicer()
        self._executor = futures.ThreadPoolExecutor(
            max_workers=_MAX_WORKERS, thread_name_prefix="rpc"
        )
        self._server = grpc.server(
            self._executor,
            options=[
                ("grpc.max_receive_message_length", _MAX_MESSAGE),
                ("grpc.so_reuseport", 0),
            ],
        )
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self._server)
        register(self._server)

    def start(self) -> None:
        """Listens on the service's socket and reports SERVING."""

        self.path.parent.mkdir(parents=True, exist_ok=True)

        # A socket file left by a killed process would make the bind fail.
        self.path.unlink(missing_ok=True)
        self._server.add_insecure_port(f"unix://{self.path}")
        self._server.start()
        os.chmod(self.path, 0o660)

        for name in ("", self.service):
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)

        log.info("Serving gRPC on %s", self.path)

    def stop(self, grace: float = 1.0) -> None:
        """Reports NOT_SERVING, finishes calls in flight, removes the socket."""

        self.health.enter_graceful_shutdown()
        self._server.stop(grace).wait(grace + 0.5)
        self._executor.shutdown(wait=False, cancel_futures=True)
        self.path.unlink(missing_ok=True)


def channel(runtime_dir: Path, service: str) -> grpc.Channel:
    """A channel to ``service``; connects lazily, so the peer may start later."""

    return grpc.insecure_channel(
        target(runtime_dir, service),
        options=[("grpc.max_receive_message_length", _MAX_MESSAGE)],
    )


def check_health(runtime_dir: Path, service: str, timeout: float = 1.0) -> bool:
    """True when ``service`` answers its health check as SERVING."""

    with channel(runtime_dir, service) as ch:
        stub = health_pb2_grpc.HealthStub(ch)

        try:
            reply = stub.Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout
            )
        except grpc.RpcError:
            return False

    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)
