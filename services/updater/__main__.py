"""Entry point of the updater service."""

import grpc

from services.common import service


def setup(context: service.ServiceContext) -> "service.Register":
    """Builds the service; its requests arrive with its own issue's work."""

    def register(server: grpc.Server) -> None:
        return None

    return register


if __name__ == "__main__":
    raise SystemExit(service.run("updater", setup))
