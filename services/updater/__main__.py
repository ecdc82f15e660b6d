"""Entry point of the updater service."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import grpc
from cld.v1 import updater_pb2_grpc

from services.common import service, topics
from services.common.config import Config
from services.common.hostzone import ZoneError, host_zone_name, zone_named
from services.common.settings import ConfigError
from services.common.state import StateStore
from services.common.version import build_info
from services.updater.apply import Applier
from services.updater.channel import Channel, registration_token
from services.updater.container_mode import ContainerInstaller
from services.updater.installer import Installer
from services.updater.journal import Journal
from services.updater.keys import trusted_keys
from services.updater.metrics import UpdaterMetrics
from services.updater.process_mode import ProcessInstaller
from services.updater.servicer import UpdaterServicer
from services.updater.updater import Updater
from services.updater.versions import running_version

log = logging.getLogger(__name__)


def zone_source(config: Config) -> Callable[[], str]:
    """The zone the schedule is read in: the setting's, or the host's now."""

    if config.updater_time_zone:
        try:
            zone_named(config.updater_time_zone)
        except ZoneError as exc:
            raise ConfigError(
                f"CLD_UPDATER_TIME_ZONE={config.updater_time_zone!r} is not valid: "
                f"{exc}"
            ) from None

        return lambda: config.updater_time_zone

    return lambda: host_zone_name(config.host_root)


def services_of(config: Config) -> list[str]:
    """The services an update must see back, from CLD_UPDATER_SERVICES."""

    names = [n.strip() for n in config.updater_services.split(",") if n.strip()]
    unknown = sorted(set(names) - set(topics.SERVICES))

    if unknown or not names:
        raise ConfigError(
            f"CLD_UPDATER_SERVICES={config.updater_services!r} is not valid: "
            f"expected names among {', '.join(topics.SERVICES)}"
        )

    return names


@dataclass
class Parts:
    """What the entry point needs once the service has stopped serving."""

    applier: Applier | None = None
    installer: ContainerInstaller | None = None
    worker: threading.Thread | None = None


def installer_for(
    config: Config, folder: Path, services: list[str], stop: Callable[[], None]
) -> Installer:
    """Container mode when a Podman API is set, else process mode."""

    url = config.updater_podman_url

    if not url:
        return ProcessInstaller(folder, services, config.updater_health_timeout)

    if not (url.startswith("unix://") and url.endswith(".sock")):
        raise ConfigError(
            f"CLD_UPDATER_PODMAN_URL={url!r} is not valid: expected unix:///PATH.sock"
        )

    return ContainerInstaller(url, services, config.updater_health_timeout, stop)


def setup(
    context: service.ServiceContext, parts: Parts | None = None
) -> service.Register:
    """Builds the updater, its worker thread and its gRPC service."""

    parts = parts if parts is not None else Parts()
    config = context.config
    folder = config.service_state_dir("updater")
    services = services_of(config)
    build = build_info()

    journal = Journal(
        StateStore(folder / "state.json"),
        context.bus.publish_state,
        UpdaterMetrics(context.registry),
        running_version(build.version, build.build_number),
        time.time,
    )
    channel = Channel(
        config, registration_token(config.runtime_dir, config.cloud_timeout)
    )
    installer = installer_for(config, folder, services, context.stopping.set)
    applier = Applier(
        journal,
        channel,
        installer,
        services,
        folder / "downloads",
        config.updater_health_timeout,
    )
    updater = Updater(
        journal,
        channel=channel,
        applier=applier,
        keys=lambda: trusted_keys(config.updater_extra_keys_file),
        zone=zone_source(config),
    )
    context.bus.subscribe(topics.ALL_STATUS, updater.on_presence)
    updater.announce()

    worker = threading.Thread(
        target=updater.run, args=(context.stopping,), name="updater", daemon=True
    )
    worker.start()
    context.on_stop.append(updater.wakeup.set)
    parts.applier, parts.worker = applier, worker

    if isinstance(installer, ContainerInstaller):
        parts.installer = installer

    def register(server: grpc.Server) -> None:
        updater_pb2_grpc.add_UpdaterServicer_to_server(UpdaterServicer(updater), server)

    return register


def main() -> int:
    """Runs the service, then hands over to a new updater container if asked."""

    parts = Parts()
    code = service.run("updater", lambda context: setup(context, parts))
    installer = parts.installer

    if code != 0 or installer is None or installer.handover is None:
        return code

    assert parts.applier is not None
    assert parts.worker is not None

    # The worker made the switch; it writes nothing more once it is done.
    parts.worker.join(10)
    problem = installer.hand_over()
    parts.applier.roll_back(f"(the new updater: {problem})")

    # This container's restart policy starts it again, as the old version.
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
