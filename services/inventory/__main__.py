"""Entry point of the inventory service."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import grpc
from cld.v1 import inventory_pb2_grpc
from prometheus_client import Counter, Gauge

from services.common import service, topics
from services.common.state import StateStore
from services.inventory.courier import Courier
from services.inventory.delivery import AccessTokens, Result, SystemManager
from services.inventory.outbox import Outbox
from services.inventory.platform import StartError, choose_profile, settings_of
from services.inventory.reporter import TUNNELS, Reporter
from services.inventory.servicer import InventoryServicer

log = logging.getLogger(__name__)


def setup(context: service.ServiceContext) -> service.Register:
    """Builds the reporter, its outbox and its gRPC service."""

    config = context.config

    try:
        profile = choose_profile(config)
        settings = settings_of(config)
    except StartError as exc:
        log.critical("Cannot start: %s", exc)
        raise SystemExit(2) from None

    folder = config.service_state_dir("inventory")
    submissions = Counter(
        "cld_inventory_submissions",
        "Inventory report submissions by result.",
        ["result"],
        registry=context.registry,
    )

    for result in Result:
        submissions.labels(result.value)

    host_proxy = profile.proxy.read(config.host_root) if profile.proxy else None
    courier = Courier(
        outbox=Outbox(folder / "outbox"),
        tokens=AccessTokens(config),
        cloud=SystemManager(config, host_proxy or ""),
        store=StateStore(folder / "delivery.json"),
        count=lambda result: submissions.labels(result.value).inc(),
        retry_max=config.inventory_retry_max,
    )
    reporter = Reporter(
        profile=profile,
        host_root=config.host_root,
        settings=settings,
        store=StateStore(folder / "inventory.json"),
        courier=courier,
        publish=context.bus.publish_state,
    )
    _gauges(context, reporter)

    context.bus.subscribe(topics.LINK, reporter.on_link)
    context.bus.subscribe(TUNNELS, reporter.on_tunnel)

    worker = threading.Thread(
        target=reporter.run, args=(context.stopping,), name="reporter", daemon=True
    )
    worker.start()
    context.on_stop.append(reporter.stop)

    def register(server: grpc.Server) -> None:
        inventory_pb2_grpc.add_InventoryServicer_to_server(
            InventoryServicer(reporter), server
        )

    return register


def _gauges(context: service.ServiceContext, reporter: Reporter) -> None:
    outbox = reporter.outbox
    gauges: dict[str, tuple[str, Callable[[], float]]] = {
        "cld_inventory_outbox_depth": (
            "Inventory reports waiting for delivery.",
            outbox.depth,
        ),
        "cld_inventory_rejected_reports": (
            "Inventory reports the cloud refused, kept aside on disk.",
            outbox.rejected_count,
        ),
        "cld_inventory_superseded_reports": (
            "Inventory reports made under an earlier link, kept aside unsent.",
            outbox.superseded_count,
        ),
        "cld_inventory_last_submission_timestamp_seconds": (
            "When the cloud last stored an inventory report (Unix time; 0 never).",
            lambda: _last_submission(reporter),
        ),
    }

    for name, (documentation, read) in gauges.items():
        Gauge(name, documentation, registry=context.registry).set_function(read)


def _last_submission(reporter: Reporter) -> float:
    last = reporter.courier.last_submission
    return last.timestamp() if last else 0.0


if __name__ == "__main__":
    raise SystemExit(service.run("inventory", setup))
