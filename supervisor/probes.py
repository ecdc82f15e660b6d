"""Readiness checks: how the supervisor tells a started child is serving."""

from __future__ import annotations

import http.client
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from services.common.rpc import check_health

# A check runs in the supervisor's one loop, so it must give up quickly for
# the other children to be watched in time.
TIMEOUT = 0.5


class Probe(Protocol):
    """A check that a child is ready; never raises."""

    def ready(self) -> bool:
        """True when the child serves."""
        ...


@dataclass(frozen=True)
class TcpProbe:
    """Ready when the port accepts a TCP connection."""

    host: str
    port: int

    def ready(self) -> bool:
        """True when a connection is accepted."""

        try:
            with socket.create_connection((self.host, self.port), timeout=TIMEOUT):
                return True
        except OSError:
            return False


@dataclass(frozen=True)
class HttpProbe:
    """Ready when ``GET url`` answers 200."""

    url: str

    def ready(self) -> bool:
        """True on a 200 answer."""

        parts = urlsplit(self.url)
        host = parts.hostname or "localhost"
        conn = http.client.HTTPConnection(host, parts.port, timeout=TIMEOUT)

        try:
            conn.request("GET", parts.path or "/")
            return conn.getresponse().status == 200
        except (OSError, http.client.HTTPException):
            return False
        finally:
            conn.close()


@dataclass(frozen=True)
class GrpcProbe:
    """Ready when the service's standard gRPC health check says SERVING."""

    runtime_dir: Path
    service: str

    def ready(self) -> bool:
        """True when the service reports SERVING."""

        return check_health(self.runtime_dir, self.service, timeout=TIMEOUT)
