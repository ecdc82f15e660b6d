"""A container's health check: exits 0 when its service answers, 1 otherwise.

Usage: ``python healthcheck.py SERVICE``. gRPC services are asked over their
socket in CLD_RUNTIME_DIR; the dashboard and the emulator over HTTP on the
address they bind.
"""

from __future__ import annotations

import os
import sys
import urllib.request
from pathlib import Path

TIMEOUT = 3.0

HTTP_PATHS = {
    "ui": ("CLD_UI_BIND", "127.0.0.1:8080", "/cld/healthz"),
    "cloud": ("CLD_CLOUD_BIND", "127.0.0.1:8800", "/health"),
}


def local_url(bind: str, path: str) -> str:
    """The URL that reaches a server bound to ``bind`` from inside the host."""

    host, _, port = bind.rpartition(":")

    # A wildcard bind is reached through loopback like any other.
    if host in {"0.0.0.0", "[::]", "::", ""}:
        host = "127.0.0.1"

    return f"http://{host}:{port}{path}"


def http_ok(url: str) -> bool:
    """True when ``url`` answers 200."""

    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as reply:  # noqa: S310
            return bool(reply.status == 200)
    except OSError:
        return False


def grpc_ok(service: str) -> bool:
    """True when ``service`` answers its gRPC health check as SERVING."""

    from services.common import rpc

    runtime_dir = Path(os.environ.get("CLD_RUNTIME_DIR", "/run/cld"))
    return rpc.check_health(runtime_dir, service, timeout=TIMEOUT)


def main(argv: list[str]) -> int:
    """Checks the service named on the command line."""

    if len(argv) != 2:
        sys.stderr.write("usage: healthcheck.py SERVICE\n")
        return 2

    service = argv[1]

    if service in HTTP_PATHS:
        variable, default, path = HTTP_PATHS[service]
        healthy = http_ok(local_url(os.environ.get(variable, default), path))
    else:
        healthy = grpc_ok(service)

    return 0 if healthy else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
